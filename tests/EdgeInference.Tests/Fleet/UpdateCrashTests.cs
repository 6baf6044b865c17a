using EdgeInference.Contracts;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Xunit.Abstractions;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// The published AOT agent, as separate processes, killed with SIGKILL at each step of an update: afterwards it
/// always serves a complete, verified model, and the update completes; a crash loop after a switch rolls back.
/// </summary>
public sealed class UpdateCrashTests
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private readonly ITestOutputHelper _output;

    public UpdateCrashTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Update_KilledAtEveryStep_AlwaysLeavesAVerifiedModelAndCompletesAfterRestart()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var models = Path.Combine(bed.Root, "crashy", "models");
        var data = Path.Combine(bed.Root, "crashy", "data");
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        await bed.PushAsync(v1);
        v1.InstallAsFirstVersion(models);
        var secret = await bed.Fleet.EnrollAsync("crashy");
        var known = new Dictionary<string, byte[]> { [Sha256(V1)] = V1 };

        var seed = 10;
        foreach (var step in new[] { "download", "stage", "test", "switch", "probation" })
        {
            var version = $"2.0.{seed}";
            var model = OnnxModelBuilder.Mlp(8, [16], seed: seed++);
            known[Sha256(model)] = model;
            await bed.PushAsync(bed.BuildPackage("scorer", version, model, goldenFrom: model, bed.Key));
            using (var held = await StartAsync(bed, models, data, secret, "--Updates:HoldAt=" + step))
            {
                var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = version, ["stages"] = "100%", ["soak"] = "0s" });
                await AgentHost.WaitUntilAsync(() => held.Output.Contains($"holding at '{step}'", StringComparison.Ordinal), TimeSpan.FromSeconds(30), $"the update to hold at {step}");
                held.KillHard();
                AssertServesAVerifiedModel(models, known, $"after kill -9 at {step}");

                using var restarted = await StartAsync(bed, models, data, secret);
                await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice("crashy")?.ServingVersion("scorer") == version, TimeSpan.FromSeconds(40), $"{version} after the kill at {step}");
                var done = await bed.Fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(40), "completed", "paused");
                Assert.True(done["rollout"]!["state"]!.GetValue<string>() == "completed", $"after the kill at {step}: {done.ToJsonString()}");
                AssertServesAVerifiedModel(models, known, $"after completing the update killed at {step}");
                var input = NamedTensor.Floats("features", [1, 8], NamedTensor.RandomFloats(8, seed: 3));
                var path = Path.Combine(bed.Root, $"expected-{step}.onnx");
                await File.WriteAllBytesAsync(path, model);
                using var bare = new BareOrt(path);
                Assert.Equal(bare.Run([input])[0].AsFloats(), (await V2Client.InferJsonAsync(restarted.Http, "scorer", [input]))[0].AsFloats());
                await restarted.TerminateAsync(TimeSpan.FromSeconds(20));
            }
        }
    }

    [Fact]
    public async Task Update_WhoseAgentCrashLoopsAfterTheSwitch_IsRolledBackByTheDeviceWithTheReason()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var models = Path.Combine(bed.Root, "loopy", "models");
        var data = Path.Combine(bed.Root, "loopy", "data");
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        var v2Model = OnnxModelBuilder.Mlp(8, [16], seed: 2);
        await bed.PushAsync(v1);
        await bed.PushAsync(bed.BuildPackage("scorer", "2.0.0", v2Model, goldenFrom: v2Model, bed.Key));
        v1.InstallAsFirstVersion(models);
        var secret = await bed.Fleet.EnrollAsync("loopy");
        string[] longProbation = ["--Updates:ProbationPeriod=00:05:00"];

        var agent = await StartAsync(bed, models, data, secret, longProbation);
        // A soak long enough that the device's own rollback lands while the stage is still being watched.
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "100%", ["soak"] = "5m" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice("loopy")?.ServingVersion("scorer") == "2.0.0", TimeSpan.FromSeconds(30), "the switch to 2.0.0");
        // The agent dies on the new version, again and again, before its probation ends.
        for (var start = 1; start <= 2; start++)
        {
            agent.KillHard();
            agent.Dispose();
            agent = await StartAsync(bed, models, data, secret, longProbation);
        }

        agent.KillHard();
        agent.Dispose();
        using var recovered = await StartAsync(bed, models, data, secret, longProbation);

        Assert.Contains("crash_loop", recovered.Output, StringComparison.Ordinal);
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice("loopy")?.ServingVersion("scorer") == "1.0.0", TimeSpan.FromSeconds(30), "1.0.0 again");
        var rollout = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "paused");
        var device = Assert.Single(rollout["devices"]!.AsArray());
        Assert.Equal("failed", device!["state"]!.GetValue<string>());
        Assert.Equal("crash_loop", device["reason"]!.GetValue<string>());
        Assert.Contains("started 3 times", device["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await recovered.TerminateAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// R4: <c>kill -9</c> at a random instant of an update, not only at the hold points: each of <c>EDGE_KILL_RUNS</c>
    /// runs (20 by default; docs/security.md has a run of 100) deploys a new 4 MB version with golden vectors and kills the
    /// agent somewhere between the command and a little past the confirmation. Every restart must serve a model some
    /// package signed, and the update must converge: the device ends on the new version and the rollout completes.
    /// The step each kill landed in is reported.
    /// </summary>
    [Fact]
    public async Task Update_KilledAtRandomInstants_AlwaysRestartsOnAVerifiedModelAndConverges()
    {
        var runs = int.TryParse(Environment.GetEnvironmentVariable("EDGE_KILL_RUNS"), out var configured) ? configured : 20;
        await using var bed = await FleetTestbed.StartAsync();
        var models = Path.Combine(bed.Root, "killed", "models");
        var data = Path.Combine(bed.Root, "killed", "data");
        var weights = new[] { OnnxModelBuilder.Mlp(512, [1024, 512], seed: 1), OnnxModelBuilder.Mlp(512, [1024, 512], seed: 2) };
        var known = weights.ToDictionary(Sha256, w => w);
        var v1 = bed.BuildPackage("scorer", "1.0.0", weights[0], goldenFrom: weights[0], bed.Key);
        await bed.PushAsync(v1);
        v1.InstallAsFirstVersion(models);
        var secret = await bed.Fleet.EnrollAsync("killed");
        var random = new Random(20261129);
        var steps = new Dictionary<string, int>(StringComparer.Ordinal);
        var agent = await StartAsync(bed, models, data, secret);
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                var version = $"2.0.{run}";
                var model = weights[run % 2];
                await bed.PushAsync(bed.BuildPackage("scorer", version, model, goldenFrom: model, bed.Key));
                var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = version, ["stages"] = "100%", ["soak"] = "0s" });
                var id = started!["rollout"]!["id"]!.GetValue<string>();
                // Skewed early (the download, staging, warm-up and golden steps take tens of milliseconds; probation a second).
                await Task.Delay(TimeSpan.FromMilliseconds(1800 * Math.Pow(random.NextDouble(), 3)));
                agent.KillHard();
                var command = bed.Fleet.Store.ListAssignments(id).Single(a => a.DeviceId == "killed").CommandId;
                var step = bed.Fleet.Store.GetCommand(command)?.Replies.LastOrDefault() is { } last ? last.Final ? $"after {Wire(last)}" : Wire(last) : "before the first reply";
                steps[step] = steps.GetValueOrDefault(step) + 1;
                agent.Dispose();
                AssertServesAVerifiedModel(models, known, $"run {run}, killed {step}");

                agent = await StartAsync(bed, models, data, secret);
                AssertServesAVerifiedModel(models, known, $"run {run}, restarted after a kill {step}");
                var done = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(60), "completed", "paused");
                Assert.True(done["rollout"]!["state"]!.GetValue<string>() == "completed", $"run {run}, killed {step}: {done.ToJsonString()}");
                await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice("killed")?.ServingVersion("scorer") == version, TimeSpan.FromSeconds(30), $"run {run}: {version} served");
            }
        }
        finally
        {
            await agent.TerminateAsync(TimeSpan.FromSeconds(20));
            agent.Dispose();
        }

        _output.WriteLine($"{runs} kills at random instants, by the step they landed in: {string.Join(", ", steps.OrderByDescending(s => s.Value).Select(s => $"{s.Key} {s.Value}"))}");
    }

    private static string Wire(ReplyMessage reply) => reply.Step?.WireName() ?? reply.State.WireName();

    private static async Task<AgentProcess> StartAsync(FleetTestbed bed, string models, string data, string secret, params string[] extra)
    {
        var port = FreePort.Next();
        var agent = AgentProcess.Start(
            TestPaths.AotAgent("linux-x64"),
            ["--models", models, "--data", data, "--urls", $"http://127.0.0.1:{port}", "--poll-interval", "00:00:00.200", .. bed.Fleet.AgentArguments(models.Split('/')[^2], secret, bed.TrustedKeys), .. extra],
            port);
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        return agent;
    }

    /// <summary>The version the repository serves (its highest folder) holds a whole model that is one of the signed ones.</summary>
    private static void AssertServesAVerifiedModel(string models, Dictionary<string, byte[]> known, string when)
    {
        var highest = Directory.EnumerateDirectories(Path.Combine(models, "scorer"))
            .Select(d => long.TryParse(Path.GetFileName(d), out var n) ? n : 0).Max();
        var file = Path.Combine(models, "scorer", highest.ToString(System.Globalization.CultureInfo.InvariantCulture), "model.onnx");
        Assert.True(File.Exists(file), $"{when}: version {highest} has no model file");
        Assert.True(known.ContainsKey(Sha256(File.ReadAllBytes(file))), $"{when}: version {highest} holds a model that no package signed");
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
