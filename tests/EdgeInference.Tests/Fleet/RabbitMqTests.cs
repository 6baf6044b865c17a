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
    public async Task OnRabbitMq_ReplicasShareDeviceEventsThroughAQuorumQueue_AndARolloutSurvivesKillingANode_WithEveryReplyStored()
    {
        const int devices = 150;
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await _fixture.Postgres.CreateDatabaseAsync()).Database;
        var portB = FreePort.Next();
        string[] replica = [.. FleetArguments(amqp: true), "--store", $"postgres://postgres@127.0.0.1:{_fixture.Postgres.Port}/{database}",
            "--public-url", $"http://127.0.0.1:{portB}", "--Fleet:CommandTimeout=00:00:15"];
        var data = TestPaths.NewTempDirectory("fleet-data");
        await using var b = await FleetHost.StartOnPortAsync(data, portB, replica);
        await using var c = await FleetHost.StartOnPortAsync(data, FreePort.Next(), replica);

        var key = SigningKey.Generate();
        var packages = Path.Combine(data, "..", $"packages-{Guid.NewGuid():N}");
        foreach (var (version, seed) in new[] { ("1.0.0", 1), ("2.0.0", 2) })
        {
            var model = OnnxModelBuilder.Mlp(8, [16], seed: seed);
            var package = Package.Build(packages, "scorer", version, model, model, key);
            await b.PushAsync(package.Manifest, package.Signed, package.Files);
        }

        var run = Guid.NewGuid().ToString("N")[..6];
        var credentials = new (string, string)[devices];
        await Parallel.ForAsync(0, devices, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var id = $"rmq-{run}-{i:D3}";
            credentials[i] = (id, await (i % 2 == 0 ? b : c).EnrollAsync(id));
        });
        var options = new SimulatorOptions
        {
            Host = "127.0.0.1", Ports = [.. Rabbit.Nodes.Select(n => n.MqttPort)], Protocol = "3.1.1", PersistentSession = true, TelemetryInterval = TimeSpan.FromSeconds(2),
            StepDelay = TimeSpan.FromMilliseconds(10), Probation = TimeSpan.FromSeconds(1), Download = true,
        };
        await using var simulator = new DeviceSimulator(credentials, options, TimeProvider.System);
        await simulator.ConnectAsync(CancellationToken.None);
        await AgentHost.WaitUntilAsync(() => b.Store.ListDevices().Count(d => d.Online && d.Id.StartsWith($"rmq-{run}", StringComparison.Ordinal)) == devices,
            TimeSpan.FromSeconds(60), "every simulated device online in the registry");

        var started = await b.StartRolloutAsync(new JsonObject
        {
            ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "10%,100%", ["soak"] = "0s", ["max_per_minute"] = 600,
        });
        var id = started!["rollout"]!["id"]!.GetValue<string>();

        // Mid-rollout, kill -9 the node that leads the quorum queue (and the devices, replicas and consumers on it).
        await AgentHost.WaitUntilAsync(() => simulator.Counts.Installs.Count >= devices / 3, TimeSpan.FromSeconds(120),
            () => $"{devices / 3} installs; {simulator.Counts.Installs.Count} did, {simulator.Counts.Commands} commands, {simulator.Counts.Replies} replies, {simulator.Counts.Errors} errors ({simulator.Counts.LastError})");
        var leader = (await Rabbit.GetAsync($"queues/%2F/{Uri.EscapeDataString("edge-fleet-events")}"))!["leader"]!.GetValue<string>();
        var killed = Rabbit.Nodes.ToList().FindIndex(n => n.Name == leader);
        Assert.True(killed >= 0, $"the queue's leader {leader} is not a node of the cluster");
        var rss = Enumerable.Range(0, Rabbit.Nodes.Count).Select(Rabbit.ResidentMebibytes).ToList();
        Rabbit.Kill(killed);
        var killedAt = simulator.Counts.Installs.Count;

        JsonNode done;
        try
        {
            done = await b.WaitForRolloutAsync(id, TimeSpan.FromSeconds(180), "completed", "paused", "rolled_back");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{simulator.Counts.Installs.Count} installed, {simulator.Counts.Commands} commands, {simulator.Counts.Replies} replies, {simulator.Counts.Errors} errors ({simulator.Counts.LastError})", ex);
        }

        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        var deploys = b.Store.ListCommands(null).Where(command => command.Message.Command == CommandNames.Deploy && command.RolloutId == id).ToList();
        Assert.Equal(devices, deploys.Select(command => command.DeviceId).Distinct().Count());
        Assert.Equal(devices, deploys.Count);
        Assert.All(simulator.Counts.Installs, install => Assert.Equal(1, install.Value));
        Assert.Equal(devices, simulator.Counts.Installs.Count);

        // Every reply the broker acknowledged to a device is stored: the queue held each until a replica had stored it.
        await AgentHost.WaitUntilAsync(() => b.Store.ListCommands(null).Where(command => command.RolloutId == id).Sum(command => command.Replies.Count) >= simulator.Counts.Replies,
            TimeSpan.FromSeconds(30), () => $"every reply stored: {b.Store.ListCommands(null).Where(command => command.RolloutId == id).Sum(command => command.Replies.Count)} of {simulator.Counts.Replies}");
        var consumed = new[] { b, c }.Select(replica => replica.App.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AmqpDeviceEvents>().Single().Handled).ToList();
        Assert.All(consumed, count => Assert.True(count > 0, "a replica took nothing from the queue"));

        _output.WriteLine($"{devices} devices on 3 RabbitMQ nodes; node {Rabbit.Nodes[killed].Name} (the queue's leader) killed after {killedAt} installs; rollout completed");
        _output.WriteLine($"replies sent {simulator.Counts.Replies}, stored {b.Store.ListCommands(null).Where(command => command.RolloutId == id).Sum(command => command.Replies.Count)}; queue messages taken by the replicas: {string.Join(", ", consumed)}");
        _output.WriteLine($"RSS before the kill (MiB): {string.Join(", ", rss.Select(m => m.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");

        await Rabbit.RestartAsync(killed);
    }

    private List<string> FleetArguments(bool amqp)
    {
        List<string> arguments =
        [
            "--mqtt-url", Rabbit.MqttUrls, "--mqtt-protocol", "3.1.1", "--mqtt-username", Rabbit.AdminUser, "--mqtt-password", Rabbit.AdminPassword,
            "--broker-admin", "rabbitmq", "--broker-admin-url", string.Join(',', Rabbit.Nodes.Select(n => n.ManagementUrl)),
        ];
        arguments.AddRange(amqp ? ["--amqp-url", Rabbit.AmqpUrls] : ["--Fleet:MqttSharedGroup="]);
        return arguments;
    }

    private static MqttApplicationMessage Status(string device) => new MqttApplicationMessageBuilder().WithTopic($"edge/{device}/status")
        .WithPayload($$"""{"device_id":"{{device}}","state":"online","timestamp":"2026-01-01T00:00:00Z"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    private static MqttClientOptions Options(int port, string user, string password, string? clientId = null) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId ?? $"edge-agent-{user}").WithCredentials(user, password)
            .WithProtocolVersion(MqttProtocolVersion.V311).WithTimeout(TimeSpan.FromSeconds(10)).Build();

    private static async Task<IMqttClient> ConnectAsync(int port, string user, string password)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(Options(port, user, password));
        return client;
    }

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

        await Task.Delay(500);
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

    private static async Task<string> TryConnectAsync(int port, string user, string password, string? clientId = null)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var code = (await client.ConnectAsync(Options(port, user, password, clientId))).ResultCode;
            return code is MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized ? "refused" : code.ToString();
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException ex)
        {
            return ex.Message.Contains("BadUserNameOrPassword", StringComparison.Ordinal) || ex.Message.Contains("NotAuthorized", StringComparison.Ordinal) ? "refused" : ex.Message;
        }
    }
}
