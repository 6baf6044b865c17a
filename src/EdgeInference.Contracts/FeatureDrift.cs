namespace EdgeInference.Contracts;

/// <summary>One feature's window: its own moments and counts, and its distance from the reference.</summary>
public sealed class FeatureDrift
{
    /// <summary>e.g. <c>features[3]</c> (one element), <c>audio:mean</c> or <c>audio:std</c> (a summary of a big tensor).</summary>
    public string Name { get; set; } = "";

    public string Tensor { get; set; } = "";

    /// <summary><c>input</c> or <c>output</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary><c>value</c>, <c>mean</c> or <c>std</c>: what one sample contributes (docs/design.md, "Drift").</summary>
    public string Statistic { get; set; } = "";

    /// <summary>Finite values observed.</summary>
    public long Count { get; set; }

    /// <summary>NaN or infinite values (for summaries: elements), left out of everything else.</summary>
    public long NanCount { get; set; }

    /// <summary>Requests without this tensor (an output that was not requested).</summary>
    public long MissingCount { get; set; }

    /// <summary>Values below the reference's minimum or above its maximum.</summary>
    public long OutOfRangeCount { get; set; }

    public double? Mean { get; set; }

    public double? Std { get; set; }

    public double? Min { get; set; }

    public double? Max { get; set; }

    /// <summary>Population stability index over the reference's bins.</summary>
    public double? Psi { get; set; }

    /// <summary>Kolmogorov–Smirnov statistic, on the reference's bin edges.</summary>
    public double? Ks { get; set; }

    /// <summary>Jensen–Shannon distance (base 2, between 0 and 1) over the reference's bins.</summary>
    public double? Js { get; set; }

    public bool Drift { get; set; }
}
