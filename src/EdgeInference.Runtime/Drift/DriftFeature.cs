namespace EdgeInference.Runtime.Drift;

/// <summary>One feature a drift window tracks: which tensor, input or output, and what of each sample.</summary>
/// <param name="Name">Unique within the model version, e.g. <c>features[3]</c> or <c>audio:std</c>.</param>
/// <param name="Tensor">The input or output name.</param>
/// <param name="IsOutput">Whether <paramref name="Tensor"/> is an output.</param>
/// <param name="Statistic">What each sample contributes.</param>
/// <param name="Element">For <see cref="DriftStatistic.Value"/>: the element's index within one sample.</param>
public sealed record DriftFeature(string Name, string Tensor, bool IsOutput, DriftStatistic Statistic, int Element)
{
    public string Kind => IsOutput ? "output" : "input";

    public string StatisticName => Statistic switch
    {
        DriftStatistic.Mean => "mean",
        DriftStatistic.Std => "std",
        _ => "value",
    };
}
