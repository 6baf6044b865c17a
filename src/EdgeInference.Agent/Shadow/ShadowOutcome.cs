namespace EdgeInference.Agent.Shadow;

/// <summary>How a candidate version compared with the serving one on live requests.</summary>
/// <param name="Compared">Requests replayed on the candidate.</param>
/// <param name="Agreed">Of those, requests where every output agreed.</param>
/// <param name="Skipped">Live requests not copied because the candidate was busy.</param>
/// <param name="FirstDisagreement">What differed on the first request that disagreed.</param>
public sealed record ShadowOutcome(int Compared, int Agreed, long Skipped, string? FirstDisagreement)
{
    /// <summary>Share of replayed requests that agreed; null when no live request came.</summary>
    public double? Agreement => Compared == 0 ? null : (double)Agreed / Compared;
}
