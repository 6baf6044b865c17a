using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Simulator;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// The fleet at scale, as the CI machine allows: three replicas on one PostgreSQL and one mosquitto, a thousand
/// devices simulated by edge-sim (each with its own credentials, speaking the agent's contract), and a staged
/// rollout during which the leading replica, a child process, is killed with kill -9.
/// </summary>
[Collection(ScaleTests.Alone)]
public sealed class ScaleTests : IClassFixture<PostgresFixture>
{
    /// <summary>A collection run by itself, after the others: a thousand devices and three replicas need the machine.</summary>
    public const string Alone = "scale, alone";

    private const int Devices = 1000;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);
    private readonly PostgresFixture _postgres;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public ScaleTests(PostgresFixture postgres, Xunit.Abstractions.ITestOutputHelper output)
    {
        _postgres = postgres;
        _output = output;
    }

    [Fact]
    public async Task ThreeReplicas_AThousandSimulatedDevices_AStagedRolloutSurvivesKillingTheLeader_WithOneDeployAndOneInstallPerDevice()
    {
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await _postgres.Server.CreateDatabaseAsync()).Database;
        await using var mosquitto = await MosquittoBroker.StartAsync();
        var data = TestPaths.NewTempDirectory("fleet-data");
        var portB = FreePort.Next();
        string[] replica =
        [
            "--store", $"postgres://postgres@127.0.0.1:{_postgres.Server.Port}/{database}", "--mqtt-url", mosquitto.Url,
            "--public-url", $"http://127.0.0.1:{portB}", $"--Fleet:CommandTimeout={CommandTimeout}",
        ];

        // Replica A, a child process started first so that it leads: the one killed.
        var portA = FreePort.Next();
        using var a = AgentProcess.Start("dotnet",
            [TestPaths.FleetService, "--urls", $"http://127.0.0.1:{portA}", "--data", data, "--operator-token", FleetHost.OperatorToken, "--Fleet:RolloutInterval=00:00:00.200", .. replica], portA);
        await WaitForRoleAsync(a, "leader");
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

        // A thousand devices enrolled through the replicas, then connected by the simulator.
        var clock = Stopwatch.StartNew();
        var credentials = new (string, string)[Devices];
        await Parallel.ForAsync(0, Devices, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var id = $"sim-{i:D4}";
            credentials[i] = (id, await (i % 2 == 0 ? b : c).EnrollAsync(id));
        });
        var enrolled = clock.Elapsed;
        var options = new SimulatorOptions
        {
            Host = "127.0.0.1", Port = mosquitto.Port, TelemetryInterval = TimeSpan.FromSeconds(5), StepDelay = TimeSpan.FromMilliseconds(10),
            Probation = TimeSpan.FromSeconds(1), Download = true, DuplicateShare = 0.05, SourceAddresses = 4,
        };
        await using var simulator = new DeviceSimulator(credentials, options, TimeProvider.System);
        var connected = await simulator.ConnectAsync(CancellationToken.None);
        await AgentHost.WaitUntilAsync(() => b.Store.ListDevices().Count(d => d.Online) == Devices, TimeSpan.FromSeconds(60), "every device online in the registry");
        var online = clock.Elapsed - enrolled;

        var started = await b.StartRolloutAsync(new JsonObject
        {
            ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1%,10%,100%", ["soak"] = "0s", ["max_per_minute"] = 12000,
        });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        var rolloutClock = Stopwatch.StartNew();

        // Mid-way through the last stage, kill -9 the leader.
        await AgentHost.WaitUntilAsync(() => simulator.Counts.Installs.Count >= 300, TimeSpan.FromSeconds(120),
            () => $"300 devices installed; sessions: {Sessions(database!)}; {simulator.Counts.Installs.Count} did, {simulator.Counts.Commands} commands came, {simulator.Counts.Replies} replies, {simulator.Counts.Errors} errors ({simulator.Counts.LastError}); B leads {b.IsLeader}, C leads {c.IsLeader}; rollout {b.Store.GetRollout(id)?.State} stage {b.Store.GetRollout(id)?.Stage}; mosquitto said:\n{string.Join('\n', mosquitto.Output.Split('\n').Where(l => l.Contains("edge-fleet", StringComparison.Ordinal) || l.Contains("arning", StringComparison.Ordinal) || l.Contains("rror", StringComparison.Ordinal)).TakeLast(40))}\nA said:\n{string.Join('\n', a.Output.Split('\n').Where(l => !l.Contains("sent to", StringComparison.Ordinal)).TakeLast(80))}");
        Assert.False(b.IsLeader || c.IsLeader, $"replica A still leads when it is killed:\n{string.Join('\n', a.Output.Split('\n').Where(l => l.Contains("lead", StringComparison.Ordinal)))}");
        a.KillHard();
        var killedAt = rolloutClock.Elapsed;
        await AgentHost.WaitUntilAsync(() => b.IsLeader || c.IsLeader, TimeSpan.FromSeconds(10), "a new leader within 10 s");
        var takeover = rolloutClock.Elapsed - killedAt;

        JsonNode done;
        try
        {
            done = await b.WaitForRolloutAsync(id, TimeSpan.FromSeconds(240), "completed", "paused", "rolled_back");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\ndevices: {simulator.Counts.Installs.Count} installed, {simulator.Counts.Commands} commands, {simulator.Counts.Replies} replies, {simulator.Counts.Errors} errors (last: {simulator.Counts.LastError}); B leads {b.IsLeader}, C leads {c.IsLeader}", ex);
        }

        var rolloutTime = rolloutClock.Elapsed;
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());

        // Exactly one deploy command per device for this rollout, and exactly one install per device as the devices count them.
        var deploys = b.Store.ListCommands(null).Where(command => command.Message.Command == CommandNames.Deploy && command.RolloutId == id).ToList();
        Assert.Equal(Devices, deploys.Count);
        Assert.Equal(Devices, deploys.Select(command => command.DeviceId).Distinct().Count());
        Assert.Equal(Devices, simulator.Counts.Installs.Count);
        Assert.All(simulator.Counts.Installs, install => Assert.Equal(1, install.Value));
        Assert.All(simulator.Devices, device => Assert.Equal("2.0.0", device.Serving));
        Assert.All(b.Store.ListDevices(), device => Assert.Equal("2.0.0", device.ServingVersion("scorer")));

        var stored = deploys.Sum(command => command.Replies.Count);

        var firstReplies = simulator.Counts.FirstReplyDelays.Order().ToList();
        _output.WriteLine($"{Devices} devices: enrolled in {enrolled.TotalSeconds:F1} s, connected in {connected.TotalSeconds:F1} s, all online in the registry {online.TotalSeconds:F1} s after enrollment");
        _output.WriteLine($"rollout 1%,10%,100%: {rolloutTime.TotalSeconds:F1} s; leader killed at {killedAt.TotalSeconds:F1} s, new leader {takeover.TotalSeconds:F2} s later");
        _output.WriteLine($"command to first reply: p50 {firstReplies[firstReplies.Count / 2].TotalMilliseconds:F0} ms, p95 {firstReplies[firstReplies.Count * 95 / 100].TotalMilliseconds:F0} ms");
        _output.WriteLine($"deploys sent again after {CommandTimeout.TotalSeconds:0} s of silence: {deploys.Count(command => command.Sends > 1)} (their outcome went to the killed replica)");
        _output.WriteLine($"commands received {simulator.Counts.Commands} (answered again as repeats: {simulator.Counts.Duplicates}), replies sent {simulator.Counts.Replies}, replies stored {stored}, downloads {simulator.Counts.Downloads}, telemetry windows {simulator.Counts.Telemetry}, device errors {simulator.Counts.Errors} (last: {simulator.Counts.LastError ?? "none"})");
    }

    /// <summary>What each database session is doing, and waiting for: the first thing to read when replicas stall.</summary>
    private string Sessions(string database)
    {
        using var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = _postgres.Server.Port, Username = "postgres", Database = database }.ConnectionString);
        connection.Open();
        using var query = new Npgsql.NpgsqlCommand(
            "SELECT pid, state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), coalesce(pg_blocking_pids(pid)::text, ''), left(query, 100), now() - state_change FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            connection)
        {
            Parameters = { new() { Value = database } },
        };
        var lines = new List<string>();
        using (var reader = query.ExecuteReader())
        {
            while (reader.Read())
            {
                lines.Add($"{reader.GetInt32(0)} {reader.GetValue(1)} {reader.GetString(2)}/{reader.GetString(3)} blocked by [{reader.GetString(4)}] for {reader.GetValue(6)}: {reader.GetValue(5)}");
            }
        }

        using var locks = new Npgsql.NpgsqlCommand("SELECT pid, locktype, coalesce(objid::text, ''), granted FROM pg_locks WHERE locktype = 'advisory'", connection);
        using var lockReader = locks.ExecuteReader();
        while (lockReader.Read())
        {
            lines.Add($"advisory lock {lockReader.GetValue(2)}: pid {lockReader.GetInt32(0)} granted {lockReader.GetBoolean(3)}");
        }

        return "\n" + string.Join('\n', lines) + "\n";
    }

    private static async Task WaitForRoleAsync(AgentProcess fleet, string role)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(fleet.HasExited, $"the fleet process exited:\n{fleet.Output}");
            try
            {
                if (JsonNode.Parse(await fleet.Http.GetStringAsync("/api/v1/health"))?["role"]?.GetValue<string>() == role)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the fleet process never became {role}:\n{fleet.Output}");
    }
}
