using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// The fleet keeping the broker in step with enrollment and revocation: the embedded broker, and a real mosquitto
/// administered through its dynamic-security plugin, where the same ACL holds as on the embedded broker.
/// </summary>
public sealed class BrokerAdminTests
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);

    [Fact]
    public async Task ARevokedDevice_IsDisconnectedAtOnce_CannotComeBack_NorDownload_AndRolloutsLeaveItOut()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        var secret = await bed.Fleet.EnrollAsync("pi-revoked");
        using var device = await ConnectAsync(bed.Fleet.MqttPort, "pi-revoked", secret);
        var token = bed.Fleet.App.Services.GetRequiredService<EdgeInference.Fleet.Packages.DownloadTokens>().Issue("scorer", "1.0.0", "pi-revoked");

        var clock = Stopwatch.StartNew();
        var revoked = await bed.Fleet.SendAsync(HttpMethod.Post, "devices/pi-revoked/revoke", null);
        await AgentHost.WaitUntilAsync(() => !device.IsConnected, TimeSpan.FromSeconds(5), "the revoked device disconnected");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.NotNull(revoked!["revoked_at"]);
        Assert.False(revoked["enrolled"]!.GetValue<bool>());

        Assert.Equal("refused", await TryConnectAsync(bed.Fleet.MqttPort, "pi-revoked", secret));
        using var download = new HttpRequestMessage(HttpMethod.Get, $"{bed.Fleet.Url}/api/v1/packages/scorer/1.0.0/files/model.onnx");
        download.Headers.Authorization = new("Bearer", token);
        using var http = new HttpClient();
        using var refused = await http.SendAsync(download);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await bed.StartAgentsAsync(1, v1, _ => []);
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "100%", ["soak"] = "0s" });
        Assert.Equal([FleetTestbed.DeviceId(0)], started!["devices"]!.AsArray().Select(d => d!["device_id"]!.GetValue<string>()));

        // Enrolled again, it has a new secret and is back.
        var again = await bed.Fleet.EnrollAsync("pi-revoked");
        using var back = await ConnectAsync(bed.Fleet.MqttPort, "pi-revoked", again);
        Assert.Null(bed.Fleet.Store.GetDevice("pi-revoked")!.RevokedAt);
    }

    [Fact]
    public async Task OnMosquitto_TheFleetProvisionsEachDevice_WithTheSameAclAsTheEmbeddedBroker_AndARevocationKicksItOut()
    {
        await using var mosquitto = await MosquittoBroker.StartWithDynamicSecurityAsync();
        await using var fleet = await FleetHost.StartAsync(null, "--mqtt-url", mosquitto.Url, "--mqtt-username", mosquitto.AdminUser, "--mqtt-password", mosquitto.AdminPassword, "--broker-admin", "mosquitto");
        var secretA = await fleet.EnrollAsync("device-a");
        var secretB = await fleet.EnrollAsync("device-b");
        using var b = await ConnectAsync(mosquitto.Port, "device-b", secretB);

        var spoof = await b.PublishAsync(Status("device-a"));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, spoof.ReasonCode);
        foreach (var filter in new[] { "edge/device-a/commands/#", "edge/+/commands/#", "edge/#", "#" })
        {
            var snoop = await b.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter).Build());
            Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, snoop.Items.Single().ResultCode);
        }

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await b.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/device-b/commands/deploy").WithPayload("{}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build())).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await b.PublishAsync(Status("device-b"))).ReasonCode);
        var own = await b.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/device-b/commands/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, own.Items.Single().ResultCode);
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("device-b")?.Online == true, TimeSpan.FromSeconds(10), "device-b's status reaching the fleet through mosquitto");

        Assert.Equal("refused", await TryConnectAsync(mosquitto.Port, "device-a", secretB));
        Assert.Equal("refused", await TryConnectAsync(mosquitto.Port, "device-b", "not-the-secret"));
        Assert.Equal("refused", await TryConnectAsync(mosquitto.Port, "device-a", secretA, clientId: "edge-agent-device-b"));

        var clock = Stopwatch.StartNew();
        await fleet.SendAsync(HttpMethod.Post, "devices/device-b/revoke", null);
        await AgentHost.WaitUntilAsync(() => !b.IsConnected, TimeSpan.FromSeconds(5), "device-b disconnected by mosquitto");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal("refused", await TryConnectAsync(mosquitto.Port, "device-b", secretB));

        // Re-enrolled: the new secret works, the old one does not.
        var renewed = await fleet.EnrollAsync("device-a");
        using var a = await ConnectAsync(mosquitto.Port, "device-a", renewed);
        Assert.Equal("refused", await TryConnectAsync(mosquitto.Port, "device-a", secretA));
    }

    [Fact]
    public async Task OnMosquitto_RealAgentsEnrolledByTheFleet_CompleteARollout()
    {
        await using var mosquitto = await MosquittoBroker.StartWithDynamicSecurityAsync();
        await using var bed = await FleetTestbed.StartAsync("--mqtt-url", mosquitto.Url, "--mqtt-username", mosquitto.AdminUser, "--mqtt-password", mosquitto.AdminPassword, "--broker-admin", "mosquitto");
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(2, v1, _ => []);

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,100%", ["soak"] = "0s" });
        var done = await bed.Fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(60), "completed", "paused");

        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        Assert.All(bed.Fleet.Store.ListDevices(), d => Assert.Equal("2.0.0", d.ServingVersion("scorer")));
    }

    [Fact]
    public async Task AnEnrollmentTheBrokerDoesNotTake_Is502NamingTheBroker_AndLeavesNoSecretBehind()
    {
        await using var mosquitto = await MosquittoBroker.StartWithDynamicSecurityAsync();
        // The fleet's account logs in, but does not hold the plugin's admin role.
        mosquitto.AddClientWithoutRoles("fleet", "fleet-password");
        await using var fleet = await FleetHost.StartWithoutBrokerAsync("--mqtt-url", mosquitto.Url, "--mqtt-username", "fleet", "--mqtt-password", "fleet-password", "--broker-admin", "mosquitto");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => fleet.EnrollAsync("pi-01"));
        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Contains("the broker (mosquitto dynamic security) did not take device", error.Message, StringComparison.Ordinal);
        Assert.Contains("admin role", error.Message, StringComparison.Ordinal);
        Assert.Null(fleet.Store.GetDevice("pi-01"));
        Assert.Empty(fleet.Store.ListDevices());
    }

    private const MqttProtocolVersion Protocol = MqttProtocolVersion.V500;

    private static MqttApplicationMessage Status(string device) => DeviceConnections.Status(device);

    private static MqttClientOptions Options(int port, string user, string password, string? clientId = null) => DeviceConnections.Options(port, user, password, Protocol, clientId);

    private static Task<IMqttClient> ConnectAsync(int port, string user, string password) => DeviceConnections.ConnectAsync(port, user, password, Protocol);

    private static Task<string> TryConnectAsync(int port, string user, string password, string? clientId = null) =>
        DeviceConnections.TryConnectAsync(port, user, password, Protocol, clientId);
}
