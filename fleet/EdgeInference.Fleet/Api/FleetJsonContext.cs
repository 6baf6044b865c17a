using System.Text.Json.Serialization;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Dashboard;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;

namespace EdgeInference.Fleet.Api;

/// <summary>Source-generated JSON for the store's records and the REST API: snake_case, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DeviceRecord))]
[JsonSerializable(typeof(List<DeviceRecord>))]
[JsonSerializable(typeof(CredentialRecord))]
[JsonSerializable(typeof(PackageRecord))]
[JsonSerializable(typeof(List<PackageRecord>))]
[JsonSerializable(typeof(RolloutRecord))]
[JsonSerializable(typeof(List<RolloutRecord>))]
[JsonSerializable(typeof(RolloutAssignment))]
[JsonSerializable(typeof(RolloutEvent))]
[JsonSerializable(typeof(List<RolloutEvent>))]
[JsonSerializable(typeof(CommandRecord))]
[JsonSerializable(typeof(List<CommandRecord>))]
[JsonSerializable(typeof(SignedManifest))]
[JsonSerializable(typeof(SignedTrust))]
[JsonSerializable(typeof(TrustDocument))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(Enrollment))]
[JsonSerializable(typeof(RolloutRequest))]
[JsonSerializable(typeof(RolloutView))]
[JsonSerializable(typeof(List<RolloutView>))]
[JsonSerializable(typeof(CommandRequest))]
[JsonSerializable(typeof(DesiredConfiguration))]
[JsonSerializable(typeof(DeviceHistory))]
[JsonSerializable(typeof(FleetChange))]
[JsonSerializable(typeof(FleetChange[]))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string?>))]
public sealed partial class FleetJsonContext : JsonSerializerContext
{
}
