namespace EdgeInference.Optimization.Verification;

/// <summary>What <c>edgefleet models verify</c> measured: each output compared, each gate's verdict, and whether all hold.</summary>
public sealed class VerificationReport
{
    public string Reference { get; set; } = "";

    public string ReferenceSha256 { get; set; } = "";

    public string Candidate { get; set; } = "";

    public string CandidateSha256 { get; set; } = "";

    public int Inputs { get; set; }

    public double Threshold { get; set; }

    public List<OutputComparison> Outputs { get; set; } = [];

    public List<GateVerdict> Gates { get; set; } = [];

    public bool Passed { get; set; }
}
