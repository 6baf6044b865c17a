namespace EdgeInference.Optimization.Quantization;

/// <summary>What <c>edgefleet models quantize</c> did (<c>report.json</c>): settings, sizes, every quantized tensor's range and parameters, and what stayed in float.</summary>
public sealed class QuantizationReport
{
    public string Model { get; set; } = "";

    public string ModelSha256 { get; set; } = "";

    public string Output { get; set; } = "";

    public string OutputSha256 { get; set; } = "";

    public string Mode { get; set; } = "";

    public string? Method { get; set; }

    public bool PerChannel { get; set; }

    public string Activations { get; set; } = "";

    public string Weights { get; set; } = "s8";

    public int CalibrationInputs { get; set; }

    public long FloatBytes { get; set; }

    public long QuantizedBytes { get; set; }

    public double SizeRatio { get; set; }

    /// <summary>Quantized nodes, by operator.</summary>
    public SortedDictionary<string, int> Quantized { get; set; } = new(StringComparer.Ordinal);

    public List<SkippedNode> Skipped { get; set; } = [];

    public List<QuantizedTensorReport> Tensors { get; set; } = [];
}
