namespace EdgeInference.Optimization.Quantization;

/// <summary>How <see cref="ModelQuantizer"/> quantizes a model. The defaults are ONNX Runtime's tool's: static QDQ, MinMax, uint8 activations, int8 weights.</summary>
public sealed class QuantizationOptions
{
    public QuantizationMode Mode { get; init; } = QuantizationMode.Static;

    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>One weight scale per output channel of Conv, Gemm and MatMul (needs opset 13), instead of one per tensor.</summary>
    public bool PerChannel { get; init; }

    /// <summary>The type of activations (asymmetric). Weights are always symmetric int8.</summary>
    public QuantizedType Activations { get; init; } = QuantizedType.U8;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the share of magnitudes kept, in percent.</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>Nodes, by name, left in float.</summary>
    public IReadOnlyCollection<string> Exclude { get; init; } = [];
}
