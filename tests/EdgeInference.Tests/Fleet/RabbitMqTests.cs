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
        await using var bed = await Bed.StartAsync(this, devices: 150, maxPerMinute: 600);

        // Mid-rollout, kill -9 the node that leads the quorum queue (and the devices, replicas and consumers on it).
        await bed.WaitForInstallsAsync(bed.Devices / 3);
        var leader = (await Rabbit.GetAsync($"queues/%2F/{Uri.EscapeDataString("edge-fleet-events")}"))!["leader"]!.GetValue<string>();
        var killed = Rabbit.Nodes.ToList().FindIndex(n => n.Name == leader);
        Assert.True(killed >= 0, $"the queue's leader {leader} is not a node of the cluster");
        var rss = Enumerable.Range(0, Rabbit.Nodes.Count).Select(Rabbit.ResidentMebibytes).ToList();
        Rabbit.Kill(killed);
        var killedAt = bed.Simulator.Counts.Installs.Count;
        try
        {
            await bed.AssertCompletedWithEveryReplyStoredAsync();
        }
        finally
        {
            await Rabbit.RestartAsync(killed);
        }

        _output.WriteLine($"{bed.Devices} devices on 3 RabbitMQ nodes; node {Rabbit.Nodes[killed].Name} (the queue's leader) killed after {killedAt} installs; rollout completed");
        _output.WriteLine(bed.Summary());
        _output.WriteLine($"RSS before the kill (MiB): {string.Join(", ", rss.Select(m => m.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    [Fact]
    public async Task OnRabbitMq_RestartingPostgreSQLMidRollout_TheReplicasCarryOn_AndNoReplyIsLost()
    {
        await using var bed = await Bed.StartAsync(this, devices: 60, maxPerMinute: 300);

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

    /// <summary>Two replicas on a fresh database and the cluster, a simulator of devices with persistent sessions spread over the nodes, and a started rollout.</summary>
    private sealed class Bed : IAsyncDisposable
    {
        private FleetHost _b = null!;
        private FleetHost _c = null!;
        private RabbitMqCluster _rabbit = null!;

        public int Devices { get; private init; }

        public FleetHost B => _b;

        public FleetHost C => _c;

        public DeviceSimulator Simulator { get; private set; } = null!;

        public string RolloutId { get; private set; } = "";

        public static async Task<Bed> StartAsync(RabbitMqTests tests, int devices, int maxPerMinute)
        {
            var bed = new Bed { Devices = devices, _rabbit = tests.Rabbit };
            var database = new Npgsql.NpgsqlConnectionStringBuilder(await tests._fixture.Postgres.CreateDatabaseAsync()).Database;
            var portB = FreePort.Next();
            string[] replica = [.. tests.FleetArguments(amqp: true), "--store", $"postgres://postgres@127.0.0.1:{tests._fixture.Postgres.Port}/{database}",
                "--public-url", $"http://127.0.0.1:{portB}", "--Fleet:CommandTimeout=00:00:15"];
            var data = TestPaths.NewTempDirectory("fleet-data");
            bed._b = await FleetHost.StartOnPortAsync(data, portB, replica);
            bed._c = await FleetHost.StartOnPortAsync(data, FreePort.Next(), replica);

            var key = SigningKey.Generate();
            var packages = Path.Combine(data, "..", $"packages-{Guid.NewGuid():N}");
            foreach (var (version, seed) in new[] { ("1.0.0", 1), ("2.0.0", 2) })
            {
                var model = OnnxModelBuilder.Mlp(8, [16], seed: seed);
                var package = Package.Build(packages, "scorer", version, model, model, key);
                await bed._b.PushAsync(package.Manifest, package.Signed, package.Files);
            }

            var run = Guid.NewGuid().ToString("N")[..6];
            var credentials = new (string, string)[devices];
            await Parallel.ForAsync(0, devices, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var id = $"rmq-{run}-{i:D3}";
                credentials[i] = (id, await (i % 2 == 0 ? bed._b : bed._c).EnrollAsync(id));
            });
            var options = new SimulatorOptions
            {
                Host = "127.0.0.1", Ports = [.. tests.Rabbit.Nodes.Select(n => n.MqttPort)], Protocol = "3.1.1", PersistentSession = true,
                TelemetryInterval = TimeSpan.FromSeconds(2), StepDelay = TimeSpan.FromMilliseconds(10), Probation = TimeSpan.FromSeconds(1), Download = true,
            };
            bed.Simulator = new DeviceSimulator(credentials, options, TimeProvider.System);
            await bed.Simulator.ConnectAsync(CancellationToken.None);
            await AgentHost.WaitUntilAsync(() => bed._b.Store.ListDevices().Count(d => d.Online && d.Id.StartsWith($"rmq-{run}", StringComparison.Ordinal)) == devices,
                TimeSpan.FromSeconds(60), "every simulated device online in the registry");

            var started = await bed._b.StartRolloutAsync(new JsonObject
            {
                ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "10%,100%", ["soak"] = "0s", ["max_per_minute"] = maxPerMinute,
            });
            bed.RolloutId = started!["rollout"]!["id"]!.GetValue<string>();
            return bed;
        }

        public Task WaitForInstallsAsync(int installs) =>
            AgentHost.WaitUntilAsync(() => Simulator.Counts.Installs.Count >= installs, TimeSpan.FromSeconds(120), () => $"{installs} installs; {Counts()}");

        /// <summary>The rollout completes with one deploy and one install per device, and every reply the broker acknowledged to a device is stored.</summary>
        public async Task AssertCompletedWithEveryReplyStoredAsync()
        {
            JsonNode done;
            try
            {
                done = await _b.WaitForRolloutAsync(RolloutId, TimeSpan.FromSeconds(180), "completed", "paused", "rolled_back");
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{ex.Message}\n{Counts()}\n{await StuckAsync()}", ex);
            }

            Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
            var deploys = _b.Store.ListCommands(null).Where(command => command.Message.Command == CommandNames.Deploy && command.RolloutId == RolloutId).ToList();
            Assert.Equal(Devices, deploys.Select(command => command.DeviceId).Distinct().Count());
            Assert.Equal(Devices, deploys.Count);
            Assert.All(Simulator.Counts.Installs, install => Assert.Equal(1, install.Value));
            Assert.Equal(Devices, Simulator.Counts.Installs.Count);
            await AgentHost.WaitUntilAsync(() => Stored() >= Simulator.Counts.Replies, TimeSpan.FromSeconds(30), () => $"every reply stored: {Stored()} of {Simulator.Counts.Replies}");
            Assert.All(Consumers(), consumer => Assert.True(consumer.Handled > 0, "a replica took nothing from the queue"));
        }

        public string Summary() =>
            $"replies sent {Simulator.Counts.Replies}, stored {Stored()}; queue messages taken by the replicas: {string.Join(", ", Consumers().Select(c => c.Handled))}, "
            + $"given back while the store was away: {string.Join(", ", Consumers().Select(c => c.Requeued))}; {Counts()}";

        public async ValueTask DisposeAsync()
        {
            await Simulator.DisposeAsync();
            await _c.DisposeAsync();
            await _b.DisposeAsync();
        }

        /// <summary>For each device whose deploy is still open: what the simulated device and RabbitMQ say of it.</summary>
        private async Task<string> StuckAsync()
        {
            var lines = new List<string>();
            foreach (var command in _b.Store.ListCommands(null).Where(command => command.RolloutId == RolloutId && !command.Final).Take(5))
            {
                var device = Simulator.Devices.First(d => d.Id == command.DeviceId);
                string queue, connections;
                try
                {
                    var q = await _rabbit.GetAsync($"queues/%2F/{Uri.EscapeDataString($"mqtt-subscription-edge-agent-{command.DeviceId}qos1")}");
                    queue = $"consumers {q?["consumers"]}, ready {q?["messages_ready"]}, unacked {q?["messages_unacknowledged"]}, leader {q?["leader"]}, online [{string.Join(",", q?["online"]?.AsArray().Select(n => n?.ToString()) ?? [])}]";
                    var c = (await _rabbit.GetAsync($"connections/username/{Uri.EscapeDataString(command.DeviceId)}"))!.AsArray();
                    connections = string.Join(",", c.Select(x => $"{x?["node"]}/{x?["state"]}"));
                }
                catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
                {
                    queue = connections = ex.Message;
                }

                lines.Add($"{command.DeviceId}: {command.State} after {command.Sends} sends, {command.Replies.Count} replies; simulated device connected {device.IsConnected}, serving {device.Serving}; its queue: {queue}; its connections: {connections}");
            }

            return string.Join('\n', lines);
        }

        private string Counts() =>
            $"{Simulator.Counts.Installs.Count} installed, {Simulator.Counts.Commands} commands, {Simulator.Counts.Replies} replies, {Simulator.Counts.Errors} device errors ({Simulator.Counts.LastError ?? "none"})";

        private int Stored() => _b.Store.ListCommands(null).Where(command => command.RolloutId == RolloutId).Sum(command => command.Replies.Count);

        private List<AmqpDeviceEvents> Consumers() =>
            [.. new[] { _b, _c }.Select(replica => replica.App.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AmqpDeviceEvents>().Single())];
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
