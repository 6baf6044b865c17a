namespace EdgeInference.Runtime.Drift;

/// <summary>What one sample of a tensor contributes to a feature.</summary>
public enum DriftStatistic
{
    /// <summary>One element of a small tensor, e.g. <c>features[3]</c>.</summary>
    Value,

    /// <summary>The mean of the sample's finite elements (big tensors: audio level offset, image brightness).</summary>
    Mean,

    /// <summary>The standard deviation of the sample's finite elements (big tensors: loudness, contrast).</summary>
    Std,
}
