using EdgeInference.Optimization.Quantization;

namespace EdgeInference.Optimization.Optimize;

/// <summary>One way to quantize that <c>models optimize</c> tries: static with a calibration method, or dynamic; per channel or per tensor.</summary>
public sealed record QuantizationVariant(CalibrationMethod Method, bool PerChannel, QuantizationMode Mode = QuantizationMode.Static)
{
    /// <summary>Every static method, then dynamic (Gemm and MatMul only), per channel first: per-channel weights lose less for a few bytes of scales.</summary>
    public static IReadOnlyList<QuantizationVariant> All { get; } =
    [
        .. from perChannel in new[] { true, false }
           from method in new[] { CalibrationMethod.MinMax, CalibrationMethod.Entropy, CalibrationMethod.Percentile }
           select new QuantizationVariant(method, perChannel),
        new QuantizationVariant(CalibrationMethod.MinMax, PerChannel: true, QuantizationMode.Dynamic),
        new QuantizationVariant(CalibrationMethod.MinMax, PerChannel: false, QuantizationMode.Dynamic),
    ];

    public string Name => $"{(Mode == QuantizationMode.Dynamic ? "dynamic" : Method.ToString().ToLowerInvariant())}-{(PerChannel ? "per-channel" : "per-tensor")}";
}
