namespace EdgeInference.Optimization.Verification;

/// <summary>One gate: what it asked, the worst the outputs measured, and whether that holds.</summary>
public sealed class GateVerdict
{
    public string Gate { get; set; } = "";

    public double Limit { get; set; }

    public double Measured { get; set; }

    public bool Passed { get; set; }
}
