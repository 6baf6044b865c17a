namespace EdgeInference.Contracts;

/// <summary>
/// One feature's reference: moments, NaN and missing rates, and a histogram whose edges are the reference's
/// minimum, its quantiles and (just above) its maximum, so values outside the reference fall in the two outer bins.
/// </summary>
public sealed class ProfileFeature
{
    public string Name { get; set; } = "";

    public string Tensor { get; set; } = "";

    public string Kind { get; set; } = "";

    public string Statistic { get; set; } = "";

    public long Count { get; set; }

    public double Mean { get; set; }

    public double Std { get; set; }

    public double Min { get; set; }

    public double Max { get; set; }

    public double NanRate { get; set; }

    public double MissingRate { get; set; }

    /// <summary>Increasing bin edges; a value's bin is the number of edges at or below it.</summary>
    public double[] BinEdges { get; set; } = [];

    /// <summary>The share of reference values in each bin: one more entry than <see cref="BinEdges"/>, summing to 1.</summary>
    public double[] Histogram { get; set; } = [];
}
