using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Simulator;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// The fleet on a real 3-node RabbitMQ cluster: devices provisioned through the management API with the same ACL as on
/// the embedded broker and mosquitto, and replicas taking device events from a quorum queue, acknowledged once stored,
/// so that losing a node mid-rollout loses nothing.
/// </summary>
[Collection(ScaleTests.Alone)]
public sealed class RabbitMqTests : IClassFixture<RabbitMqFixture>
{
    private readonly RabbitMqFixture _fixture;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public RabbitMqTests(RabbitMqFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    private RabbitMqCluster Rabbit => _fixture.Cluster;

    [Fact]
    public async Task OnRabbitMq_TheFleetProvisionsEachDevice_WithTheSameAclAsTheEmbeddedBroker_AndARevocationKicksItOut()
    {
        await using var fleet = await FleetHost.StartAsync(null, [.. FleetArguments(amqp: false)]);
        var run = Guid.NewGuid().ToString("N")[..6];
        string a = $"device-a-{run}", b = $"device-b-{run}";
        var secretA = await fleet.EnrollAsync(a);
        var secretB = await fleet.EnrollAsync(b);
        var port = Rabbit.Nodes[0].MqttPort;
        using var deviceB = await ConnectAsync(port, b, secretB);

        // Another device's topics: publishing there closes the connection (MQTT 3.1.1 has no other answer), subscribing is refused.
        Assert.True(await IsRefusedAsync(deviceB, Status(a)), "device B published device A's status");
        Assert.False(fleet.Store.GetDevice(a)?.Online == true);
        foreach (var filter in new[] { $"edge/{a}/commands/#", "edge/+/commands/#", "edge/#", "#" })
        {
            using var snooper = await ConnectAsync(port, b, secretB);
            Assert.True(await IsRefusedAsync(snooper, filter), $"device B subscribed to {filter}");
        }

        using (var impostor = await ConnectAsync(port, b, secretB))
        {
            Assert.True(await IsRefusedAsync(impostor, new MqttApplicationMessageBuilder().WithTopic($"edge/{b}/commands/deploy").WithPayload("{}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()),
                "device B published a command to itself");
        }

        using var own = await ConnectAsync(port, b, secretB);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await own.PublishAsync(Status(b))).ReasonCode);
        var subscribed = await own.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter($"edge/{b}/commands/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, subscribed.Items.Single().ResultCode);
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice(b)?.Online == true, TimeSpan.FromSeconds(10), "device B's status reaching the fleet through RabbitMQ");

        Assert.Equal("refused", await TryConnectAsync(port, a, secretB));
        Assert.Equal("refused", await TryConnectAsync(port, b, "not-the-secret"));

        // RabbitMQ 3.10 cannot tie a client id to a user: device A may connect as edge-agent-{B} (and so push B off), but
        // with that id it can subscribe to nothing, not even its own commands: the queue would be B's, which it may not declare.
        using (var foreign = new MqttClientFactory().CreateMqttClient())
        {
            await foreign.ConnectAsync(Options(port, a, secretA, clientId: $"edge-agent-{b}"));
            Assert.True(await IsRefusedAsync(foreign, $"edge/{a}/commands/#"), "device A subscribed under device B's client id");
        }

        using var again = await ConnectAsync(port, b, secretB);

        var clock = Stopwatch.StartNew();
        await fleet.SendAsync(HttpMethod.Post, $"devices/{b}/revoke", null);
        await AgentHost.WaitUntilAsync(() => !again.IsConnected, TimeSpan.FromSeconds(5), "device B disconnected by RabbitMQ");
        _output.WriteLine($"revoked device disconnected after {clock.ElapsedMilliseconds} ms");
        Assert.Equal("refused", await TryConnectAsync(port, b, secretB));

        // Re-enrolled: the new secret works, the old one does not.
        var renewed = await fleet.EnrollAsync(a);
        using var deviceA = await ConnectAsync(port, a, renewed);
        Assert.Equal("refused", await TryConnectAsync(port, a, secretA));
    }

    [Fact]
    public async Task OnRabbitMq_RestartingPostgreSQLMidRollout_TheReplicasCarryOn_AndNoReplyIsLost()
    {
        await using var bed = await RabbitMqBed.StartAsync(_fixture, devices: 60, maxPerMinute: 300);

        await bed.WaitForInstallsAsync(bed.Devices / 3);
        var clock = Stopwatch.StartNew();
        await _fixture.Postgres.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await _fixture.Postgres.StartAgainAsync();
        var outage = clock.Elapsed;
        await AgentHost.WaitUntilAsync(() => bed.B.IsLeader || bed.C.IsLeader, TimeSpan.FromSeconds(30), "a replica leading again after PostgreSQL's restart");
        var answering = Stopwatch.StartNew();
        while (true)
        {
            // Each connection the pool held before the restart fails once before it is replaced: the API may answer 500 meanwhile.
            try
            {
                await bed.B.RolloutAsync(bed.RolloutId);
                break;
            }
            catch (HttpRequestException) when (answering.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }
        }

        await bed.AssertCompletedWithEveryReplyStoredAsync();
        _output.WriteLine($"{bed.Devices} devices; PostgreSQL stopped and started again mid-rollout ({outage.TotalSeconds:F1} s down); rollout completed; leader B {bed.B.IsLeader}, C {bed.C.IsLeader}");
        _output.WriteLine(bed.Summary());
    }

    private List<string> FleetArguments(bool amqp) => RabbitMqBed.FleetArguments(Rabbit, amqp);

    private const MqttProtocolVersion Protocol = MqttProtocolVersion.V311;

    private static MqttApplicationMessage Status(string device) => DeviceConnections.Status(device);

    private static MqttClientOptions Options(int port, string user, string password, string? clientId = null) => DeviceConnections.Options(port, user, password, Protocol, clientId);

    private static Task<IMqttClient> ConnectAsync(int port, string user, string password) => DeviceConnections.ConnectAsync(port, user, password, Protocol);

    private static Task<string> TryConnectAsync(int port, string user, string password, string? clientId = null) =>
        DeviceConnections.TryConnectAsync(port, user, password, Protocol, clientId);

    /// <summary>Whether RabbitMQ refused a QoS 1 publish: over MQTT 3.1.1 it closes the connection instead of acknowledging.</summary>
    private static async Task<bool> IsRefusedAsync(IMqttClient client, MqttApplicationMessage message)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.PublishAsync(message, timeout.Token);
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or MQTTnet.Exceptions.MqttClientDisconnectedException)
        {
            return true;
        }

        // Acknowledged: refused only if the broker closes the connection right after.
        await AgentHost.WaitUntilAsync(() => !client.IsConnected, TimeSpan.FromSeconds(1), "the broker closing the connection").ContinueWith(_ => { }, TaskScheduler.Default);
        return !client.IsConnected;
    }

    /// <summary>Whether RabbitMQ refused a subscription: RabbitMQ 3.10 closes the connection (or answers the SUBACK with a failure).</summary>
    private static async Task<bool> IsRefusedAsync(IMqttClient client, string filter)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var result = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), timeout.Token);
            return (int)result.Items.Single().ResultCode >= 0x80;
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            return true;
        }
    }
}
