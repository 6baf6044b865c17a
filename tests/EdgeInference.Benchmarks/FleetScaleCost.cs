using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Simulator;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Benchmarks;

/// <summary>
/// The fleet at scale on real infrastructure (<c>-- --fleet-scale DEVICES [TELEMETRY_SECONDS]</c>): PostgreSQL, a 3-node
/// RabbitMQ cluster, three replicas — A and B child processes (so their memory is their own), C in this process, which
/// the benchmark drives through its API — and simulated devices with persistent sessions spread over the nodes. It
/// prints how long the devices took to connect, the telemetry the replicas took in (rate and the queue's backlog), a
/// staged rollout's deploy rate against its <c>max_per_minute</c> and its command-to-first-reply latency, and the resident
/// memory of every replica and node.
/// </summary>
internal static class FleetScaleCost
{
    public static async Task PrintAsync(int devices, double telemetrySeconds)
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var rabbit = await RabbitMqCluster.StartAsync(3);
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()).Database;
        var data = TestPaths.NewTempDirectory("fleet-scale");
        var portC = FreePort.Next();
        string[] replica =
        [
            "--store", $"postgres://postgres@127.0.0.1:{postgres.Port}/{database}", "--public-url", $"http://127.0.0.1:{portC}",
            "--mqtt-url", rabbit.MqttUrls, "--mqtt-protocol", "3.1.1", "--mqtt-username", rabbit.AdminUser, "--mqtt-password", rabbit.AdminPassword,
            "--amqp-url", rabbit.AmqpUrls, "--broker-admin", "rabbitmq", "--broker-admin-url", string.Join(',', rabbit.Nodes.Select(n => n.ManagementUrl)),
            "--Fleet:CommandTimeout=00:00:30",
        ];
        var children = new List<AgentProcess>();
        try
        {
            foreach (var _ in new[] { "A", "B" })
            {
                var port = FreePort.Next();
                var child = AgentProcess.Start("dotnet", [TestPaths.FleetService, "--urls", $"http://127.0.0.1:{port}", "--data", data, "--operator-token", FleetHost.OperatorToken,
                    "--Logging:LogLevel:Default=Warning", .. replica], port);
                children.Add(child);
                await WaitHealthyAsync(child);
            }

            await using var c = await FleetHost.StartOnPortAsync(data, portC, replica);
            var key = SigningKey.Generate();
            foreach (var (version, seed) in new[] { ("1.0.0", 1), ("2.0.0", 2) })
            {
                var model = OnnxModelBuilder.Mlp(8, [16], seed: seed);
                var package = Package.Build(Path.Combine(data, "..", $"packages-{Guid.NewGuid():N}"), "scorer", version, model, model, key);
                await c.PushAsync(package.Manifest, package.Signed, package.Files);
            }

            var clock = Stopwatch.StartNew();
            var credentials = new (string, string)[devices];
            await Parallel.ForAsync(0, devices, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            {
                var id = $"sim-{i:D5}";
                credentials[i] = (id, await c.EnrollAsync(id));
            });
            var enrolled = clock.Elapsed;
            var options = new SimulatorOptions
            {
                Host = "127.0.0.1", Ports = [.. rabbit.Nodes.Select(n => n.MqttPort)], Protocol = "3.1.1", PersistentSession = true,
                TelemetryInterval = TimeSpan.FromSeconds(telemetrySeconds), StepDelay = TimeSpan.FromMilliseconds(10), Probation = TimeSpan.FromSeconds(1),
                SourceAddresses = 4, ConnectConcurrency = 16,
            };
            await using var simulator = new DeviceSimulator(credentials, options, TimeProvider.System);
            var connected = await simulator.ConnectAsync(CancellationToken.None);
            await AgentHost.WaitUntilAsync(() => c.Store.ListDevices().Count(d => d.Online) == devices, TimeSpan.FromMinutes(5), "every device online in the registry");
            var online = clock.Elapsed - enrolled;
            Console.WriteLine($"{devices} devices: enrolled through the API in {enrolled.TotalSeconds:F1} s, connected to 3 RabbitMQ nodes in {connected.TotalSeconds:F1} s, all online in the registry {online.TotalSeconds:F1} s after enrollment");

            // Telemetry ingest: 30 s of every device sending a window each interval, through the quorum queue.
            var (rate, backlog) = await MeasureIngestAsync(rabbit, TimeSpan.FromSeconds(30));
            Console.WriteLine($"telemetry: devices sent {devices / telemetrySeconds:F0} windows/s; the replicas stored {rate:F0} messages/s; the queue's backlog at most {backlog} messages ({(rate > 0 ? backlog / rate : double.PositiveInfinity):F1} s)");

            // A staged rollout with a notification rate.
            var perMinute = Math.Max(600, devices * 2);
            var started = await c.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1%,10%,100%", ["soak"] = "0s", ["max_per_minute"] = perMinute });
            var id = started!["rollout"]!["id"]!.GetValue<string>();
            var rolloutClock = Stopwatch.StartNew();
            var done = await c.WaitForRolloutAsync(id, TimeSpan.FromMinutes(30), "completed", "paused", "rolled_back");
            var deploys = c.Store.ListCommands(null).Where(command => command.Message.Command == CommandNames.Deploy && command.RolloutId == id && command.SentAt is not null)
                .Select(command => command.SentAt!.Value).Order().ToList();
            var last = deploys.Skip(deploys.Count / 10).ToList(); // the last stage, which runs at the cap
            var measured = last.Count > 1 ? (last.Count - 1) / (last[^1] - last[0]).TotalMinutes : 0;
            var replies = simulator.Counts.FirstReplyDelays.Order().ToList();
            Console.WriteLine($"rollout 1%,10%,100%: {done["rollout"]!["state"]} in {rolloutClock.Elapsed.TotalSeconds:F1} s; {simulator.Counts.Installs.Count} installs; "
                + $"deploys in the last stage {measured:F0}/min against max_per_minute {perMinute} ({(measured / perMinute - 1) * 100:+0.0;-0.0} %)");
            Console.WriteLine($"command issued → first reply: p50 {replies[replies.Count / 2].TotalMilliseconds:F0} ms, p95 {replies[replies.Count * 95 / 100].TotalMilliseconds:F0} ms, max {replies[^1].TotalMilliseconds:F0} ms");
            Console.WriteLine($"resident memory, MiB: replica A {ResidentMemory.Mebibytes(children[0].Id):F0}, B {ResidentMemory.Mebibytes(children[1].Id):F0} (C shares this process with the simulator: {ResidentMemory.Mebibytes(Environment.ProcessId):F0}); "
                + $"RabbitMQ nodes {string.Join(", ", Enumerable.Range(0, 3).Select(i => rabbit.ResidentMebibytes(i).ToString("F0", CultureInfo.InvariantCulture)))}");
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>The rate at which the replicas acknowledge the events queue, and its largest backlog, over <paramref name="window"/>.</summary>
    private static async Task<(double Rate, long Backlog)> MeasureIngestAsync(RabbitMqCluster rabbit, TimeSpan window)
    {
        static long Acked(JsonNode queue) => queue["message_stats"]?["ack"]?.GetValue<long>() ?? 0;
        var first = (await rabbit.GetAsync("queues/%2F/edge-fleet-events"))!;
        var clock = Stopwatch.StartNew();
        long backlog = 0;
        JsonNode latest = first;
        using var sample = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (clock.Elapsed < window && await sample.WaitForNextTickAsync())
        {
            latest = (await rabbit.GetAsync("queues/%2F/edge-fleet-events"))!;
            backlog = Math.Max(backlog, latest["messages"]?.GetValue<long>() ?? 0);
        }

        return ((Acked(latest) - Acked(first)) / clock.Elapsed.TotalSeconds, backlog);
    }

    private static async Task WaitHealthyAsync(AgentProcess fleet)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (fleet.HasExited)
            {
                throw new InvalidOperationException($"a fleet replica exited:\n{fleet.Output}");
            }

            try
            {
                await fleet.Http.GetStringAsync("/api/v1/health");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"a fleet replica never answered:\n{fleet.Output}");
    }
}
