using System.Text.Json.Serialization;

namespace EdgeInference.Packaging;

/// <summary>Source-generated JSON for manifests, signatures and golden sets: snake_case, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    WriteIndented = true)]
[JsonSerializable(typeof(PackageManifest))]
[JsonSerializable(typeof(SignedManifest))]
[JsonSerializable(typeof(GoldenSet))]
[JsonSerializable(typeof(TrustDocument))]
[JsonSerializable(typeof(SignedTrust))]
public sealed partial class PackageJsonContext : JsonSerializerContext
{
}
