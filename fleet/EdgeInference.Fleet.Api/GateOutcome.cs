namespace EdgeInference.Fleet.Api;

/// <summary>A gate's latest evaluation: its value (null without data, which has not passed) and whether it passed.</summary>
public sealed class GateOutcome
{
    public string Gate { get; set; } = "";

    public double? Value { get; set; }

    public bool Passed { get; set; }

    /// <summary>How many devices (or installs, or vectors) the value comes from.</summary>
    public long Samples { get; set; }
}
