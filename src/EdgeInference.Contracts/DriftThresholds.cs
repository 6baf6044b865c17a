namespace EdgeInference.Contracts;

/// <summary>The limits a drift flag is raised at; a feature drifts when any statistic exceeds its limit.</summary>
public sealed class DriftThresholds
{
    public double Psi { get; set; }

    public double Ks { get; set; }

    public double Js { get; set; }

    /// <summary>Fewer values than this in a window and no flag is raised.</summary>
    public long MinSamples { get; set; }
}
