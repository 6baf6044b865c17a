namespace EdgeInference.Optimization.Verification;

/// <summary>What a candidate must hold to against its reference; a null gate is measured but not enforced.</summary>
public sealed class VerificationGates
{
    /// <summary>The largest |candidate − reference| allowed anywhere in any output.</summary>
    public double? MaxAbsDiff { get; set; }

    /// <summary>The lowest cosine similarity allowed between the two outputs of one input.</summary>
    public double? MinCosine { get; set; }

    /// <summary>The lowest share of inputs on which both make the same decision (see <see cref="Threshold"/>).</summary>
    public double? MinAgreement { get; set; }

    /// <summary>The largest 99th percentile of |candidate − reference| allowed.</summary>
    public double? MaxP99AbsDiff { get; set; }

    /// <summary>Single-score outputs: the lowest share of the reference's positives the candidate must also call positive.</summary>
    public double? MinPositivesKept { get; set; }

    /// <summary>
    /// The decision for a single-score output: positive at or above it (default 0.5); outputs with more than one value
    /// per input decide by their top class.
    /// </summary>
    public double Threshold { get; set; } = 0.5;
}
