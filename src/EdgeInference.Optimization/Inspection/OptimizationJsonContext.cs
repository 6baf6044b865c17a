using System.Text.Json.Serialization;

namespace EdgeInference.Optimization.Inspection;

/// <summary>Source-generated JSON for the pipeline's reports: snake_case, nulls left out, indented for people.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(ModelInspection))]
[JsonSerializable(typeof(EdgeInference.Optimization.Import.ImportReport))]
[JsonSerializable(typeof(EdgeInference.Optimization.Verification.VerificationReport))]
[JsonSerializable(typeof(EdgeInference.Optimization.Quantization.QuantizationReport))]
[JsonSerializable(typeof(EdgeInference.Optimization.Optimize.OptimizationReport))]
public sealed partial class OptimizationJsonContext : JsonSerializerContext
{
}
