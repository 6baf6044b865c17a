using EdgeInference.Optimization.Verification;
using Onnx;

namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// The calibration inputs of one model, read once, and the ranges each method measured on them, kept: optimize
/// quantizes the same model several ways, and whether weights get one scale or one per channel does not change what
/// the activations do.
/// </summary>
internal sealed class CalibrationSet(string folder)
{
    private readonly Dictionary<(CalibrationMethod Method, double Percentile), Dictionary<string, TensorRange>> _ranges = [];
    private List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)>? _samples;

    public int Count => _samples?.Count ?? 0;

    /// <summary>The inputs of the folder (read on first use).</summary>
    public List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> Samples(string[] inputNames) =>
        _samples ??= SampleFolder.Read(folder, inputNames);

    public Dictionary<string, TensorRange> Ranges(ModelProto model, string[] inputNames, IReadOnlySet<string> wanted, CalibrationMethod method, double percentile)
    {
        if (!_ranges.TryGetValue((method, percentile), out var ranges))
        {
            ranges = _ranges[(method, percentile)] = Calibrator.Measure(model, wanted, Samples(inputNames), method, percentile);
        }

        return ranges;
    }
}
