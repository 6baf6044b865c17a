namespace EdgeInference.Contracts;

/// <summary>An output's shape and its first values (all of them for small outputs).</summary>
public sealed class OutputSummaryMessage
{
    public string Name { get; set; } = "";

    public long[] Shape { get; set; } = [];

    public double[] Values { get; set; } = [];
}
