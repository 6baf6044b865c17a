using System.Text;
using EdgeInference.Testing;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeInference.Tests.Fleet;

/// <summary>The embedded broker's authentication and ACL, against real MQTT clients.</summary>
public sealed class BrokerAclTests
{
    [Fact]
    public async Task DeviceB_CannotPublishAsDeviceA_NorReadItsCommands_NorTakeItsClientId()
    {
        await using var fleet = await FleetHost.StartAsync();
        await fleet.EnrollAsync("device-a");
        var secretB = await fleet.EnrollAsync("device-b");
        var factory = new MqttClientFactory();
        using var b = factory.CreateMqttClient();
        await b.ConnectAsync(Options(fleet, "edge-agent-device-b", "device-b", secretB));

        var spoof = await b.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/device-a/status")
            .WithPayload("""{"device_id":"device-a","state":"online","timestamp":"2026-01-01T00:00:00Z"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, spoof.ReasonCode);
        var snoop = await b.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/device-a/commands/#").Build());
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, snoop.Items.Single().ResultCode);
        var wildcard = await b.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/+/commands/#").Build());
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, wildcard.Items.Single().ResultCode);

        // Its own topics work, so the refusals above are the ACL, not a broken connection.
        var own = await b.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/device-b/status")
            .WithPayload("""{"device_id":"device-b","state":"online","timestamp":"2026-01-01T00:00:00Z"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientPublishReasonCode.Success, own.ReasonCode);
        var ownCommands = await b.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/device-b/commands/#").Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, ownCommands.Items.Single().ResultCode);
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("device-b")?.Online == true, TimeSpan.FromSeconds(10), "device-b online in the registry");
        Assert.False(fleet.Store.GetDevice("device-a")!.Online);

        // B's secret does not open A's client id or user name, and a wrong secret opens nothing.
        Assert.Equal("BadUserNameOrPassword", await TryConnectAsync(Options(fleet, "edge-agent-device-a", "device-a", secretB)));
        Assert.Equal("BadUserNameOrPassword", await TryConnectAsync(Options(fleet, "edge-agent-device-b", "device-b", "not-the-secret")));
        Assert.True(b.IsConnected, "the refused attempts must not disturb device B's own session");
    }

    [Fact]
    public async Task Reader_CanSubscribeToTheFleet_ButPublishesNothing()
    {
        await using var fleet = await FleetHost.StartAsync(null, "--reader-token", "dashboard-token");
        using var reader = new MqttClientFactory().CreateMqttClient();
        await reader.ConnectAsync(Options(fleet, "dashboard-1", "reader", "dashboard-token"));

        var all = await reader.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/#").Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, all.Items.Single().ResultCode);
        var command = await reader.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/device-a/commands/restart")
            .WithPayload(Encoding.UTF8.GetBytes("{}")).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, command.ReasonCode);
    }

    /// <summary>
    /// The ACL matrix: every identity × every kind of topic (own and others', wildcards, $SYS, $share, retained) ×
    /// publish and subscribe, against the embedded broker with real clients. The expectation is written out here, not
    /// derived from the broker's own rules.
    /// </summary>
    [Fact]
    public async Task TheAclMatrix_OfEveryIdentityAndTopicPattern_IsExactlyWhatEachMayDo()
    {
        await using var fleet = await FleetHost.StartAsync(null, "--reader-token", "dashboard-token");
        var secrets = new Dictionary<string, string> { ["a"] = await fleet.EnrollAsync("a"), ["b"] = await fleet.EnrollAsync("b") };
        var identities = new (string Name, string ClientId, string User, string Password)[]
        {
            ("device a", "edge-agent-a", "a", secrets["a"]),
            ("device b", "edge-agent-b", "b", secrets["b"]),
            ("reader", "dashboard-r", "reader", "dashboard-token"),
            ("operator", "dashboard-o", "reader", FleetHost.OperatorToken),
        };
        string[] publishTopics =
        [
            "edge/a/status", "edge/a/telemetry", "edge/a/drift", "edge/a/predictions", "edge/a/replies/cmd-1", "edge/a/replies/x/y", "edge/a/commands/deploy",
            "edge/a/other", "edge/b/status", "edge/b/replies/cmd-1", "other/topic", "$SYS/broker/load",
        ];
        string[] filters =
        [
            "edge/a/commands/#", "edge/a/commands/deploy", "edge/a/commands/+", "edge/a/status", "edge/b/commands/#", "edge/+/commands/#", "edge/#", "edge/+/status",
            "#", "+/+/+", "$SYS/#", "$share/g/edge/a/commands/#", "$share/g/edge/#",
        ];
        var failures = new List<string>();
        var checks = 0;
        foreach (var (name, clientId, user, password) in identities)
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            await client.ConnectAsync(Options(fleet, clientId, user, password));
            var device = name.StartsWith("device ", StringComparison.Ordinal) ? name[^1..] : null;
            foreach (var topic in publishTopics)
            {
                foreach (var retain in new[] { false, true })
                {
                    var own = device is not null && topic.StartsWith($"edge/{device}/", StringComparison.Ordinal);
                    var channel = own ? topic[$"edge/{device}/".Length..] : "";
                    var expected = own && (channel is "status" or "telemetry" or "drift" or "predictions" || (channel.StartsWith("replies/", StringComparison.Ordinal) && channel.Count(c => c == '/') == 1))
                        && (!retain || channel == "status");
                    var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload("{}").WithRetainFlag(retain)
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                    checks++;
                    if ((result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers) != expected)
                    {
                        failures.Add($"{name} publish{(retain ? " retained" : "")} {topic}: {result.ReasonCode}, expected {(expected ? "allowed" : "refused")}");
                    }
                }
            }

            foreach (var filter in filters)
            {
                var expected = device is not null
                    ? filter.StartsWith($"edge/{device}/commands/", StringComparison.Ordinal)
                    : filter is "edge/#" or "edge/+/commands/#" or "edge/+/status" or "#" || filter.StartsWith("edge/", StringComparison.Ordinal);
                var result = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter).Build());
                checks++;
                var granted = result.Items.Single().ResultCode is MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS1;
                if (granted != expected)
                {
                    failures.Add($"{name} subscribe {filter}: {result.Items.Single().ResultCode}, expected {(expected ? "granted" : "refused")}");
                }
            }
        }

        // Anonymous, and a device's secret under another device's name or client id, do not get in at all.
        foreach (var (what, options) in new[]
        {
            ("anonymous", new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", fleet.MqttPort).WithClientId("anon").WithTimeout(TimeSpan.FromSeconds(10)).Build()),
            ("a's secret as b", Options(fleet, "edge-agent-b", "b", secrets["a"])),
            ("a's secret with b's client id", Options(fleet, "edge-agent-b", "a", secrets["a"])),
            ("a reader token as a device", Options(fleet, "edge-agent-a", "a", "dashboard-token")),
        })
        {
            checks++;
            if (await TryConnectAsync(options) is not ("BadUserNameOrPassword" or "ClientIdentifierNotValid"))
            {
                failures.Add($"{what}: connected");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {checks} checks failed:\n" + string.Join("\n", failures));
        Assert.Equal(4 * ((12 * 2) + 13) + 4, checks);
    }

    [Fact]
    public async Task AReader_CannotTakeOverADevicesClientId_AndTheDeviceKeepsItsSessionAndRights()
    {
        await using var fleet = await FleetHost.StartAsync(null, "--reader-token", "dashboard-token");
        var secret = await fleet.EnrollAsync("device-a");
        using var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(Options(fleet, "edge-agent-device-a", "device-a", secret));

        Assert.Equal("ClientIdentifierNotValid", await TryConnectAsync(Options(fleet, "edge-agent-device-a", "reader", "dashboard-token")));
        Assert.Equal("ClientIdentifierNotValid", await TryConnectAsync(Options(fleet, "edge-agent-device-a", "reader", FleetHost.OperatorToken)));
        Assert.Equal("ClientIdentifierNotValid", await TryConnectAsync(Options(fleet, "edge-fleet-spoof", "reader", "dashboard-token")));

        Assert.True(device.IsConnected, "the refused takeover must not disturb the device's session");
        Assert.Equal(MqttClientPublishReasonCode.Success, (await PublishStatusAsync(device, "device-a")).ReasonCode);
    }

    [Fact]
    public async Task AClientId_HeldByOneToken_CannotBeTakenOverWithAnother()
    {
        await using var fleet = await FleetHost.StartAsync(null, "--reader-token", "dashboard-token");
        using var operatorDashboard = new MqttClientFactory().CreateMqttClient();
        await operatorDashboard.ConnectAsync(Options(fleet, "dashboard-1", "reader", FleetHost.OperatorToken));

        Assert.Equal("ClientIdentifierNotValid", await TryConnectAsync(Options(fleet, "dashboard-1", "reader", "dashboard-token")));
        Assert.True(operatorDashboard.IsConnected);
        var broker = fleet.App.Services.GetRequiredService<EdgeInference.Fleet.Broker.EmbeddedBroker>();
        Assert.Equal("operator:configured", broker.ConnectedIdentities()["dashboard-1"]);
    }

    [Fact]
    public async Task ADeviceTakingOverItsOwnSession_KeepsItsRights_AfterTheOldConnectionIsGone()
    {
        await using var fleet = await FleetHost.StartAsync();
        var secret = await fleet.EnrollAsync("device-a");
        using var old = new MqttClientFactory().CreateMqttClient();
        await old.ConnectAsync(Options(fleet, "edge-agent-device-a", "device-a", secret));
        using var replacement = new MqttClientFactory().CreateMqttClient();
        await replacement.ConnectAsync(Options(fleet, "edge-agent-device-a", "device-a", secret));
        await AgentHost.WaitUntilAsync(() => !old.IsConnected, TimeSpan.FromSeconds(10), "the old connection taken over");

        // The old connection's disconnect used to remove the rights of the client id, which the new one now holds.
        await Task.Delay(200);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await PublishStatusAsync(replacement, "device-a")).ReasonCode);
        var commands = await replacement.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/device-a/commands/#").Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, commands.Items.Single().ResultCode);
    }

    private static Task<MqttClientPublishResult> PublishStatusAsync(IMqttClient client, string device) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"edge/{device}/status")
            .WithPayload($$"""{"device_id":"{{device}}","state":"online","timestamp":"2026-01-01T00:00:00Z"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>The CONNACK's result code, whether MQTTnet returns it or throws it.</summary>
    private static async Task<string> TryConnectAsync(MqttClientOptions options)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            return (await client.ConnectAsync(options)).ResultCode.ToString();
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException ex)
        {
            return ex.Message.Contains("BadUserNameOrPassword", StringComparison.Ordinal) ? "BadUserNameOrPassword"
                : ex.Message.Contains("ClientIdentifierNotValid", StringComparison.Ordinal) ? "ClientIdentifierNotValid" : ex.Message;
        }
    }

    private static MqttClientOptions Options(FleetHost fleet, string clientId, string user, string password) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", fleet.MqttPort).WithClientId(clientId).WithCredentials(user, password)
            .WithTimeout(TimeSpan.FromSeconds(10)).Build();
}
