namespace EdgeInference.Optimization.Quantization;

/// <summary>How an activation's range is chosen from what calibration saw.</summary>
public enum CalibrationMethod
{
    /// <summary>The least and greatest value seen, over all inputs.</summary>
    MinMax,

    /// <summary>The range whose 8-bit histogram loses the least information (the KL divergence), TensorRT's method.</summary>
    Entropy,

    /// <summary>The magnitude below which a given share of the values lie (99.999 % by default), clipped to what was seen.</summary>
    Percentile,
}
