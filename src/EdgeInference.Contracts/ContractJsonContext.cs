using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Source-generated JSON for every message of the contract: snake_case names, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(StatusMessage))]
[JsonSerializable(typeof(TelemetryMessage))]
[JsonSerializable(typeof(PredictionBatchMessage))]
[JsonSerializable(typeof(DriftMessage))]
[JsonSerializable(typeof(DriftProfile))]
[JsonSerializable(typeof(CommandMessage))]
[JsonSerializable(typeof(ReplyMessage))]
[JsonSerializable(typeof(DesiredConfiguration))]
[JsonSerializable(typeof(InstallState))]
[JsonSerializable(typeof(CommandState))]
[JsonSerializable(typeof(RolloutState))]
[JsonSerializable(typeof(UpdateStep))]
[JsonSerializable(typeof(ReplyState))]
[JsonSerializable(typeof(ConnectionState))]
[JsonSerializable(typeof(SensorState))]
public sealed partial class ContractJsonContext : JsonSerializerContext
{
}
