using EdgeInference.Optimization.Quantization;

namespace EdgeInference.Optimization.Optimize;

/// <summary>One way to quantize that <c>models optimize</c> tries: a calibration method, per channel or per tensor.</summary>
public sealed record QuantizationVariant(CalibrationMethod Method, bool PerChannel)
{
    /// <summary>Every method, per channel first: per-channel weights lose less for a few bytes of scales.</summary>
    public static IReadOnlyList<QuantizationVariant> All { get; } =
    [
        .. from perChannel in new[] { true, false }
           from method in new[] { CalibrationMethod.MinMax, CalibrationMethod.Entropy, CalibrationMethod.Percentile }
           select new QuantizationVariant(method, perChannel),
    ];

    public string Name => $"{Method.ToString().ToLowerInvariant()}-{(PerChannel ? "per-channel" : "per-tensor")}";
}
