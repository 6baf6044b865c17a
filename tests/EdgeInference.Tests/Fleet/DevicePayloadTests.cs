using System.Text;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Store;
using EdgeInference.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeInference.Tests.Fleet;

/// <summary>What a device publishes is untrusted: bounded, validated, and counted when dropped, and it never throws past the registry.</summary>
public sealed class DevicePayloadTests : IDisposable
{
    private const string Now = "2026-11-29T12:00:00Z";
    private readonly string _folder = TestPaths.NewTempDirectory("payloads");
    private readonly LiteDbFleetStore _store;
    private readonly DeviceRegistry _registry;

    public DevicePayloadTests()
    {
        _store = new LiteDbFleetStore(Path.Combine(_folder, "fleet.db"));
        _registry = new DeviceRegistry(_store, TimeProvider.System, NullLogger<DeviceRegistry>.Instance);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "telemetry", $$"""{"device_id":"d1","timestamp":"{{Now}}","models":null}""" },
        { "telemetry", $$"""{"device_id":"d1","timestamp":"{{Now}}","models":[null]}""" },
        { "telemetry", $$"""{"device_id":"d1","timestamp":"{{Now}}","models":[],"process":null}""" },
        { "telemetry", $$"""{"device_id":"d1","timestamp":"{{Now}}","models":[{"model":"m","requests":1,"errors":5}]}""" },
        { "telemetry", $$"""{"device_id":"d1","timestamp":"{{Now}}","models":[{{string.Join(",", Enumerable.Range(0, 65).Select(i => $$"""{"model":"m{{i}}"}"""))}}]}""" },
        { "drift", $$"""{"device_id":"d1","timestamp":"{{Now}}","model":"m","features":null}""" },
        { "drift", $$"""{"device_id":"d1","timestamp":"{{Now}}","model":"","features":[]}""" },
        { "drift", $$"""{"device_id":"d1","timestamp":"{{Now}}","model":"m","thresholds":null,"features":[]}""" },
        { "status", $$"""{"device_id":"d1","timestamp":"{{Now}}","state":"hacked"}""" },
        { "status", $$"""{"device_id":"d1","timestamp":"{{Now}}","state":"online","models":[null]}""" },
        { "status", $$"""{"device_id":"d1","timestamp":"{{Now}}","state":"online","agent_version":"{{new string('x', 300)}}"}""" },
        { "replies/c1", $$"""{"device_id":"d1","command_id":"c1","state":"progress","lines":[{{string.Join(",", Enumerable.Repeat("\"x\"", 2001))}}]}""" },
        { "replies/c1", $$"""{"device_id":"d1","command_id":"","state":"progress"}""" },
        { "status", "[1,2,3]" },
        { "status", $$"""{"device_id":"d1","state":"online","models":[{"model":"m","version":"one"}]}""" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AMalformedMessage_IsDroppedAndCounted_WithoutThrowing(string channel, string payload)
    {
        _registry.Handle($"edge/d1/{channel}", Encoding.UTF8.GetBytes(payload));

        Assert.Equal(1, _registry.Dropped);
        Assert.Null(_store.GetDevice("d1"));
    }

    [Fact]
    public void AMessageOverTheSizeLimit_IsDroppedBeforeItIsParsed()
    {
        var padding = new string(' ', DevicePayloads.MaxBytes);
        _registry.Handle("edge/d1/status", Encoding.UTF8.GetBytes($$"""{"device_id":"d1","timestamp":"{{Now}}","state":"online"{{padding}}}"""));
        Assert.Equal(1, _registry.Dropped);
        Assert.Null(_store.GetDevice("d1"));
    }

    [Fact]
    public void ADriftWindowWithNoFeatures_IsTakenWithoutAMaximum()
    {
        _registry.Handle("edge/d1/drift", Encoding.UTF8.GetBytes($$"""{"device_id":"d1","timestamp":"{{Now}}","model":"m","package_version":"1.0.0","features":[]}"""));
        Assert.Equal(0, _registry.Dropped);
        Assert.Null(_store.GetDevice("d1")!.Drift["m@1.0.0"].MaxPsi);
    }

    [Fact]
    public void TelemetryFromEverMoreVersions_KeepsOnlyTheMostRecentlySeenPerDevice()
    {
        for (var i = 0; i < 200; i++)
        {
            _registry.Handle("edge/d1/telemetry", Encoding.UTF8.GetBytes(
                $$"""{"device_id":"d1","timestamp":"{{Now}}","models":[{"model":"m","package_version":"1.0.{{i}}","requests":1}]}"""));
        }

        var stats = _store.GetDevice("d1")!.Stats;
        Assert.Equal(DevicePayloads.MaxVersionsPerDevice, stats.Count);
        Assert.Contains("m@1.0.199", stats.Keys);
        Assert.DoesNotContain("m@1.0.0", stats.Keys);
        Assert.Equal(0, _registry.Dropped);
    }

    [Fact]
    public async Task OverTheBroker_AMalformedMessageIsDropped_AndTheNextOneFromTheSameDeviceIsTaken()
    {
        await using var fleet = await FleetHost.StartAsync();
        using var device = await ConnectDeviceAsync(fleet, "d1");

        await PublishAsync(device, "edge/d1/telemetry", $$"""{"device_id":"d1","timestamp":"{{Now}}","models":null}""");
        await PublishAsync(device, "edge/d1/status", $$"""{"device_id":"d1","timestamp":"{{Now}}","state":"online","agent_version":"9.9.9"}""");

        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("d1")?.AgentVersion == "9.9.9", TimeSpan.FromSeconds(10), "the valid status taken");
        var metrics = await fleet.Http.GetStringAsync(new Uri($"{fleet.Url}/metrics"));
        Assert.Contains("edgefleet_mqtt_dropped_messages_total 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADevice_CannotRetainRepliesOrTelemetry_OnlyItsStatus()
    {
        await using var fleet = await FleetHost.StartAsync();
        using var device = await ConnectDeviceAsync(fleet, "d1");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(device, "edge/d1/replies/junk-1", "{}", retain: true)).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(device, "edge/d1/telemetry", "{}", retain: true)).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(device, "edge/d1/replies/", "{}")).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await PublishAsync(device, "edge/d1/replies/junk-1", "{}")).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success,
            (await PublishAsync(device, "edge/d1/status", $$"""{"device_id":"d1","timestamp":"{{Now}}","state":"online"}""", retain: true)).ReasonCode);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Enrolls <paramref name="id"/> and connects as it, with its own client id and secret.</summary>
    private static async Task<IMqttClient> ConnectDeviceAsync(FleetHost fleet, string id)
    {
        var secret = await fleet.EnrollAsync(id);
        var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", fleet.MqttPort).WithClientId($"edge-agent-{id}").WithCredentials(id, secret).Build());
        return device;
    }

    private static Task<MqttClientPublishResult> PublishAsync(IMqttClient client, string topic, string payload, bool retain = false) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
}
