namespace EdgeInference.Runtime.Configuration;

/// <summary>Requests run before a version is marked ready.</summary>
public sealed class WarmupConfig
{
    /// <summary>Runs of the warm-up inputs; 0 skips warm-up.</summary>
    public int Iterations { get; set; } = 1;

    /// <summary>
    /// Inputs to warm up with. Without them the agent makes zero-filled inputs from the model's declared
    /// shapes, with each dynamic dimension set to 1.
    /// </summary>
    public IList<WarmupInputConfig>? Inputs { get; set; }
}
