using System.Text.Json.Serialization;

namespace EdgeInference.Runtime.Configuration;

/// <summary>Source-generated JSON for model config files: snake_case, unknown properties refused.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ModelConfig))]
public sealed partial class ModelConfigJsonContext : JsonSerializerContext;
