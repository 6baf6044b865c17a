namespace EdgeInference.Optimization.Verification;

/// <summary>How one output of the candidate compares with the reference's, over every input.</summary>
public sealed class OutputComparison
{
    public string Reference { get; set; } = "";

    public string Candidate { get; set; } = "";

    public double MaxAbsDiff { get; set; }

    /// <summary>The 99th percentile of |candidate − reference| over every value of every input.</summary>
    public double P99AbsDiff { get; set; }

    /// <summary>The lowest cosine similarity of one input's two outputs; none for single-score outputs, where it would only compare signs.</summary>
    public double? MinCosine { get; set; }

    /// <summary>Share of inputs where both decide alike: the same side of the threshold, or the same top class.</summary>
    public double Agreement { get; set; }

    /// <summary>Single-score outputs: how many inputs the reference calls positive.</summary>
    public int? ReferencePositives { get; set; }

    /// <summary>Single-score outputs: the share of the reference's positives the candidate also calls positive.</summary>
    public double? PositivesKept { get; set; }
}
