using System.Text.Json.Serialization;
using EdgeInference.Contracts;
using EdgeInference.Packaging;

namespace EdgeInference.Fleet.Api;

/// <summary>Source-generated JSON for the fleet's REST contract: snake_case, nulls left out (the service, edgefleet and the demo all use it).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(HealthView))]
[JsonSerializable(typeof(DeviceView))]
[JsonSerializable(typeof(List<DeviceView>))]
[JsonSerializable(typeof(Enrollment))]
[JsonSerializable(typeof(CommandRequest))]
[JsonSerializable(typeof(CommandView))]
[JsonSerializable(typeof(List<CommandView>))]
[JsonSerializable(typeof(DesiredConfiguration))]
[JsonSerializable(typeof(PackageView))]
[JsonSerializable(typeof(List<PackageView>))]
[JsonSerializable(typeof(SignedManifest))]
[JsonSerializable(typeof(SignedTrust))]
[JsonSerializable(typeof(TrustDocument))]
[JsonSerializable(typeof(RolloutRequest))]
[JsonSerializable(typeof(RolloutView))]
[JsonSerializable(typeof(List<RolloutView>))]
[JsonSerializable(typeof(FileUploaded))]
[JsonSerializable(typeof(TrustPushed))]
[JsonSerializable(typeof(BenchmarkRequest))]
[JsonSerializable(typeof(List<BenchmarkView>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string?>))]
public sealed partial class FleetApiJsonContext : JsonSerializerContext
{
}
