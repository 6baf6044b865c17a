using EdgeInference.Optimization.Import;

namespace EdgeInference.Optimization.Optimize;

/// <summary>What <c>edgefleet models optimize</c> did (<c>report.json</c>): the float model, every variant tried with its numbers, and the one kept.</summary>
public sealed class OptimizationReport
{
    public string Source { get; set; } = "";

    public string SourceSha256 { get; set; } = "";

    /// <summary>How a TFLite source was converted to the float ONNX reference; null for an ONNX source.</summary>
    public ImportReport? Import { get; set; }

    public long FloatBytes { get; set; }

    public double FloatLatencyMicroseconds { get; set; }

    public int CalibrationInputs { get; set; }

    public int HeldOutInputs { get; set; }

    public List<VariantReport> Variants { get; set; } = [];

    /// <summary>The variant written as model.onnx: the smallest that passed (the lower p99 |Δ| on a tie); null when none did.</summary>
    public string? Chosen { get; set; }

    public string? OutputSha256 { get; set; }

    /// <summary>The golden vectors' tolerance: the largest |Δ| the chosen variant showed on the held-out inputs.</summary>
    public double? GoldenTolerance { get; set; }
}
