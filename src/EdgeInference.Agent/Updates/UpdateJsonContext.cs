using System.Text.Json.Serialization;

namespace EdgeInference.Agent.Updates;

/// <summary>Source-generated JSON for the durable update records.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UpdateRecord))]
internal sealed partial class UpdateJsonContext : JsonSerializerContext
{
}
