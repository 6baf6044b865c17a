using System.Text.Json.Serialization;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Dashboard;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;

namespace EdgeInference.Fleet.Api;

/// <summary>Source-generated JSON for the store's records and the dashboard's feeds: snake_case, nulls left out (the REST contract's is <see cref="FleetApiJsonContext"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DeviceRecord))]
[JsonSerializable(typeof(CredentialRecord))]
[JsonSerializable(typeof(PackageRecord))]
[JsonSerializable(typeof(RolloutRecord))]
[JsonSerializable(typeof(RolloutAssignment))]
[JsonSerializable(typeof(RolloutEvent))]
[JsonSerializable(typeof(CommandRecord))]
[JsonSerializable(typeof(SignedManifest))]
[JsonSerializable(typeof(SignedTrust))]
[JsonSerializable(typeof(DesiredConfiguration))]
[JsonSerializable(typeof(DeviceHistory))]
[JsonSerializable(typeof(FleetChange))]
[JsonSerializable(typeof(FleetChange[]))]
public sealed partial class FleetJsonContext : JsonSerializerContext
{
}
