using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Simulator;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests.Fleet;

/// <summary>Two replicas on a fresh database and the cluster, a simulator of devices with persistent sessions spread over the nodes, and a started rollout.</summary>
internal sealed class RabbitMqBed : IAsyncDisposable
{
    private FleetHost _b = null!;
    private FleetHost _c = null!;
    private RabbitMqCluster _rabbit = null!;

    public int Devices { get; private init; }

    public FleetHost B => _b;

    public FleetHost C => _c;

    public DeviceSimulator Simulator { get; private set; } = null!;

    public string RolloutId { get; private set; } = "";

    public static async Task<RabbitMqBed> StartAsync(RabbitMqFixture fixture, int devices, int maxPerMinute)
    {
        var bed = new RabbitMqBed { Devices = devices, _rabbit = fixture.Cluster };
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await fixture.Postgres.CreateDatabaseAsync()).Database;
        var portB = FreePort.Next();
        string[] replica = [.. FleetArguments(fixture.Cluster, amqp: true), "--store", $"postgres://postgres@127.0.0.1:{fixture.Postgres.Port}/{database}",
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
            Host = "127.0.0.1", Ports = [.. fixture.Cluster.Nodes.Select(n => n.MqttPort)], Protocol = "3.1.1", PersistentSession = true,
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
            var device = Simulator.Devices.FirstOrDefault(d => d.Id == command.DeviceId);
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

            lines.Add($"{command.DeviceId}: {command.State} after {command.Sends} sends, {command.Replies.Count} replies; simulated device connected {device?.IsConnected}, serving {device?.Serving}; its queue: {queue}; its connections: {connections}");
        }

        return string.Join('\n', lines);
    }

    private string Counts() =>
        $"{Simulator.Counts.Installs.Count} installed, {Simulator.Counts.Commands} commands, {Simulator.Counts.Replies} replies, {Simulator.Counts.Errors} device errors ({Simulator.Counts.LastError ?? "none"})";

    private int Stored() => _b.Store.ListCommands(null).Where(command => command.RolloutId == RolloutId).Sum(command => command.Replies.Count);

    private List<AmqpDeviceEvents> Consumers() =>
        [.. new[] { _b, _c }.Select(replica => replica.App.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AmqpDeviceEvents>().Single())];

    /// <summary>The fleet's arguments for the cluster: its MQTT nodes over 3.1.1, the management API, and the quorum queue (or, without it, no shared subscriptions).</summary>
    public static List<string> FleetArguments(RabbitMqCluster rabbit, bool amqp)
    {
        List<string> arguments =
        [
            "--mqtt-url", rabbit.MqttUrls, "--mqtt-protocol", "3.1.1", "--mqtt-username", rabbit.AdminUser, "--mqtt-password", rabbit.AdminPassword,
            "--broker-admin", "rabbitmq", "--broker-admin-url", string.Join(',', rabbit.Nodes.Select(n => n.ManagementUrl)),
        ];
        arguments.AddRange(amqp ? ["--amqp-url", rabbit.AmqpUrls] : ["--Fleet:MqttSharedGroup="]);
        return arguments;
    }
}
