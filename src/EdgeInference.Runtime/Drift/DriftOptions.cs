namespace EdgeInference.Runtime.Drift;

/// <summary>Drift statistics (section <c>Drift</c>): windows, thresholds and how features are made.</summary>
public sealed class DriftOptions
{
    public const string Section = "Drift";

    public bool Enabled { get; set; } = true;

    /// <summary>The length of one window; each window is compared with the reference and published.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Population stability index above which a feature drifts (0.1 is a small shift, 0.25 a significant one).</summary>
    public double PsiThreshold { get; set; } = 0.25;

    /// <summary>Kolmogorov–Smirnov statistic above which a feature drifts.</summary>
    public double KsThreshold { get; set; } = 0.3;

    /// <summary>Jensen–Shannon distance (0…1) above which a feature drifts.</summary>
    public double JsThreshold { get; set; } = 0.3;

    /// <summary>Values a feature needs in a window before it can raise the flag; also the size of a learned reference.</summary>
    public long MinSamples { get; set; } = 100;

    /// <summary>Quantile bins of a reference histogram (plus one below its minimum and one above its maximum).</summary>
    public int Bins { get; set; } = 10;

    /// <summary>A tensor with at most this many elements per sample gives one feature per element; bigger ones give summaries.</summary>
    public int MaxElementFeatures { get; set; } = 32;

    /// <summary>Values per feature kept (reservoir-sampled) while a reference is learned from the first window.</summary>
    public int ReservoirSize { get; set; } = 2048;
}
