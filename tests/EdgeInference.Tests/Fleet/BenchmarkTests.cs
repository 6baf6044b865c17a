using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Cli;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// <c>edgefleet models benchmark</c>: real agents download and verify a signed package as for a deploy, time it beside
/// what they serve, and reply with their figures; nothing is installed, and what was downloaded is gone afterwards.
/// </summary>
public sealed class BenchmarkTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("benchmark");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The CLI's environment for <paramref name="fleet"/>, and a signing key made with it whose public half devices trust.</summary>
    private async Task<(Dictionary<string, string> Env, string Trusted)> SigningKeyAsync(FleetHost fleet)
    {
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };
        var (code, output) = await CliRunner.RunAsync(env, "keys", "generate", "--out", Path.Combine(_root, "keys"), "--name", "ops");
        Assert.True(code == ExitCodes.Ok, output);
        var trusted = Directory.CreateDirectory(Path.Combine(_root, "trusted")).FullName;
        File.Copy(Path.Combine(_root, "keys", "ops.pub.pem"), Path.Combine(trusted, "ops.pub.pem"));
        return (env, trusted);
    }

    [Fact]
    public async Task ModelsBenchmark_IsAnsweredByEveryTargetedDevice_WithItsFigures_AndInstallsNothing()
    {
        await using var fleet = await FleetHost.StartAsync(Path.Combine(_root, "fleet"));
        var (env, trusted) = await SigningKeyAsync(fleet);
        int code;
        string output;
        var model = Path.Combine(_root, "scorer.onnx");
        await File.WriteAllBytesAsync(model, OnnxModelBuilder.Mlp(8, [16], seed: 3));
        var golden = Path.Combine(_root, "golden.json");
        await File.WriteAllBytesAsync(golden, FleetTestbed.GoldenVectors(await File.ReadAllBytesAsync(model), 2));
        var key = Path.Combine(_root, "keys", "ops.key.pem");
        (code, output) = await CliRunner.RunAsync(env, "models", "push", model, "--name", "scorer", "--version", "1.0.0", "--golden", golden, "--sign-key", key);
        Assert.True(code == ExitCodes.Ok, output);
        (code, output) = await CliRunner.RunAsync(env, "models", "push", model, "--name", "scorer", "--version", "1.1.0", "--sign-key", key);
        Assert.True(code == ExitCodes.Ok, output);

        await fleet.EnrollAsync("elsewhere", "ring=other");
        var agents = new List<(string Id, string Models, string Data, AgentHost Host)>();
        try
        {
            foreach (var id in new[] { "bench-0", "bench-1" })
            {
                var secret = await fleet.EnrollAsync(id, "ring=lab");
                var models = Directory.CreateDirectory(Path.Combine(_root, id, "models")).FullName;
                var data = Path.Combine(_root, id, "data");
                agents.Add((id, models, data, await AgentHost.StartAsync(models, data, fleet.AgentArguments(id, secret, trusted))));
            }

            await AgentHost.WaitUntilAsync(() => agents.All(a => fleet.Store.GetDevice(a.Id)?.Online == true), TimeSpan.FromSeconds(30), "both agents online");

            (code, output) = await CliRunner.RunAsync(env, "models", "benchmark", "scorer@1.0.0", "--target", "ring=lab", "--iterations", "30", "--json");

            Assert.True(code == ExitCodes.Ok, output);
            var results = JsonNode.Parse(output)!.AsArray();
            Assert.Equal(["bench-0", "bench-1"], results.Select(r => r!["device_id"]!.GetValue<string>()));
            Assert.All(results, r =>
            {
                Assert.Equal("succeeded", r!["state"]!.GetValue<string>());
                var figures = r["result"]!;
                Assert.Equal(30, figures["iterations"]!.GetValue<int>());
                Assert.Equal("CPU", figures["provider"]!.GetValue<string>());
                Assert.Equal("golden", figures["inputs"]!.GetValue<string>());
                var (p50, p99) = (figures["p50_ms"]!.GetValue<double>(), figures["p99_ms"]!.GetValue<double>());
                Assert.True(p50 > 0 && p99 >= p50 && figures["load_ms"]!.GetValue<double>() > 0, figures.ToJsonString());
            });

            // Without golden vectors the device times zeros of the model's input shape.
            (code, output) = await CliRunner.RunAsync(env, "models", "benchmark", "scorer@1.1.0", "--target", "ring=lab", "--iterations", "5", "--json");
            Assert.True(code == ExitCodes.Ok, output);
            Assert.All(JsonNode.Parse(output)!.AsArray(), r => Assert.Equal("zeros", r!["result"]!["inputs"]!.GetValue<string>()));

            // The fleet keeps every device's figures, and shows them with the package; the devices installed nothing and kept nothing.
            (code, output) = await CliRunner.RunAsync(env, "models", "show", "scorer@1.0.0");
            Assert.True(code == ExitCodes.Ok && output.Contains("On-device benchmarks", StringComparison.Ordinal) && output.Contains("bench-1", StringComparison.Ordinal), output);
            using var client = new FleetClient(fleet.Url, FleetHost.OperatorToken);
            Assert.Equal(2, (await client.ListBenchmarksAsync("scorer", "1.0.0", CancellationToken.None)).Count(b => b.Result is not null));
            Assert.All(agents, a =>
            {
                Assert.Null(fleet.Store.GetDevice(a.Id)!.ServingVersion("scorer"));
                Assert.False(Directory.Exists(Path.Combine(a.Models, "scorer")));
                Assert.Empty(Directory.Exists(Path.Combine(a.Data, "benchmarks")) ? Directory.GetFileSystemEntries(Path.Combine(a.Data, "benchmarks")) : []);
            });

            // On the wire, the command and its reply are what docs/mqtt/schemas say.
            var commands = fleet.Store.ListCommands("bench-0").Where(c => c.Message.Command == CommandNames.Benchmark).ToList();
            await SchemaCheck.AssertValidAsync(
                "command", [.. commands.Select(c => JsonSerializer.SerializeToUtf8Bytes(c.Message, ContractJsonContext.Default.CommandMessage))],
                broken => broken["benchmark"]!["iterations"] = 0, "iterations");
            await SchemaCheck.AssertValidAsync(
                "reply", [.. commands.SelectMany(c => c.Replies).Where(r => r.Benchmark is not null).Select(r => JsonSerializer.SerializeToUtf8Bytes(r, ContractJsonContext.Default.ReplyMessage))],
                broken => broken["benchmark"]!["inputs"] = "random", "inputs");

            (code, output) = await CliRunner.RunAsync(env, "models", "benchmark", "scorer@9.0.0", "--target", "ring=lab");
            Assert.Equal(ExitCodes.NotFound, code);
            Assert.Contains("there is no package scorer 9.0.0", output, StringComparison.Ordinal);
            (code, output) = await CliRunner.RunAsync(env, "models", "benchmark", "scorer@1.0.0", "--target", "ring=nowhere");
            Assert.NotEqual(ExitCodes.Ok, code);
            Assert.Contains("no enrolled device matches the target 'ring=nowhere'", output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.Host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ARolloutGatedOnBenchP95_BenchmarksEachDeviceBeforeItsDeploy_SwitchesThemWithinTheGate_AndPausesWhenTooSlow()
    {
        await using var fleet = await FleetHost.StartAsync(Path.Combine(_root, "fleet"));
        var (env, trusted) = await SigningKeyAsync(fleet);
        int code;
        string output;
        foreach (var (version, seed) in new[] { ("1.0.0", 3), ("1.1.0", 4) })
        {
            var model = Path.Combine(_root, $"scorer-{version}.onnx");
            await File.WriteAllBytesAsync(model, OnnxModelBuilder.Mlp(8, [16], seed));
            (code, output) = await CliRunner.RunAsync(env, "models", "push", model, "--name", "scorer", "--version", version, "--sign-key", Path.Combine(_root, "keys", "ops.key.pem"));
            Assert.True(code == ExitCodes.Ok, output);
        }

        var agents = new List<AgentHost>();
        try
        {
            foreach (var id in new[] { "gated-0", "gated-1" })
            {
                var secret = await fleet.EnrollAsync(id, "ring=lab");
                agents.Add(await AgentHost.StartAsync(Directory.CreateDirectory(Path.Combine(_root, id, "models")).FullName, Path.Combine(_root, id, "data"), fleet.AgentArguments(id, secret, trusted)));
            }

            string[] devices = ["gated-0", "gated-1"];
            await AgentHost.WaitUntilAsync(() => devices.All(id => fleet.Store.GetDevice(id)?.Online == true), TimeSpan.FromSeconds(30), "both agents online");

            // Within the gate: each device times the package first, then installs it, and the rollout completes.
            (code, output) = await CliRunner.RunAsync(env, "rollouts", "start", "--model", "scorer@1.0.0", "--target", "ring=lab", "--stages", "1,100%", "--soak", "0s",
                "--gate", "install_rate>=1", "--gate", "bench_p95_ms<=10000", "--json");
            Assert.True(code == ExitCodes.Ok, output);
            var passing = JsonNode.Parse(output)!["rollout"]!["id"]!.GetValue<string>();
            await AgentHost.WaitUntilAsync(() => fleet.Store.GetRollout(passing)?.State == RolloutState.Completed, TimeSpan.FromSeconds(60), "the gated rollout completed");
            var rows = fleet.Store.ListAssignments(passing);
            Assert.Equal(2, rows.Count);
            Assert.All(rows, row =>
            {
                var benchmark = fleet.Store.GetCommand(row.BenchmarkCommandId!)!;
                var deploy = fleet.Store.GetCommand(row.CommandId)!;
                Assert.Equal(CommandState.Succeeded, benchmark.State);
                Assert.True(deploy.CreatedAt >= benchmark.Replies[^1].Timestamp, "the deploy was sent after the benchmark's answer");
                Assert.Equal("1.0.0", fleet.Store.GetDevice(row.DeviceId)!.ServingVersion("scorer"));
            });
            Assert.Contains(fleet.Store.GetRollout(passing)!.LastGateResults, g => g.Gate == "bench_p95_ms<=10000" && g.Passed && g.Samples == 2);

            // Too slow for the gate: no device gets the deploy, and the rollout pauses with the measured figure.
            (code, output) = await CliRunner.RunAsync(env, "rollouts", "start", "--model", "scorer@1.1.0", "--target", "ring=lab", "--stages", "100%", "--soak", "0s",
                "--gate", "bench_p95_ms<=0.0001", "--json");
            Assert.True(code == ExitCodes.Ok, output);
            var failing = JsonNode.Parse(output)!["rollout"]!["id"]!.GetValue<string>();
            await AgentHost.WaitUntilAsync(() => fleet.Store.GetRollout(failing)?.State == RolloutState.Paused, TimeSpan.FromSeconds(60), "the too-slow rollout paused");
            Assert.Contains("bench_p95_ms<=0.0001 measured", fleet.Store.GetRollout(failing)!.Reason, StringComparison.Ordinal);
            Assert.All(fleet.Store.ListAssignments(failing), row => Assert.Equal(("", InstallState.Failed), (row.CommandId, row.State)));
            Assert.All(devices, id => Assert.Equal("1.0.0", fleet.Store.GetDevice(id)!.ServingVersion("scorer")));
            (code, output) = await CliRunner.RunAsync(env, "rollouts", "status", failing, "--json");
            Assert.True(code == ExitCodes.Ok, output);
            Assert.All(JsonNode.Parse(output)!["devices"]!.AsArray(), d => Assert.EndsWith("ms is over bench_p95_ms<=0.0001", d!["reason"]!.GetValue<string>(), StringComparison.Ordinal));
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }
}
