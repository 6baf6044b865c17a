namespace EdgeInference.Agent.Updates;

/// <summary>How a staged version did on its golden vectors: passed of total, and the first failure in words.</summary>
public sealed record GoldenOutcome(int Passed, int Total, string? FirstFailure)
{
    public bool AllPassed => Passed == Total;
}
