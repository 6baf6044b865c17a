namespace EdgeInference.Runtime.Configuration;

/// <summary>One warm-up input: its name and concrete shape; it is filled with <see cref="Value"/>.</summary>
public sealed class WarmupInputConfig
{
    public string Name { get; set; } = "";

    public IList<long> Shape { get; set; } = [];

    /// <summary>The value of every element (numeric inputs; BYTES inputs get empty strings).</summary>
    public double Value { get; set; }
}
