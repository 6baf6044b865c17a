namespace EdgeInference.Optimization.Quantization;

/// <summary>One activation as quantized: what calibration saw, the range chosen, and the parameters written.</summary>
public sealed class QuantizedTensorReport
{
    public string Name { get; set; } = "";

    public float Min { get; set; }

    public float Max { get; set; }

    public float RangeMin { get; set; }

    public float RangeMax { get; set; }

    public float Scale { get; set; }

    public int ZeroPoint { get; set; }

    /// <summary>For the output of a data-movement operator (MaxPool, Reshape …): the input whose parameters it keeps.</summary>
    public string? SameAs { get; set; }
}
