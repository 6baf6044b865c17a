using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>Staged rollouts against real agents: the fleet in process with its embedded broker, ten agents on loopback.</summary>
public sealed class RolloutTests
{
    private const int Devices = 10;
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);
    private static readonly byte[] V3 = OnnxModelBuilder.Mlp(8, [16], seed: 3);

    [Fact]
    public async Task Rollout_OfAGoodVersion_AdvancesStageByStageAndEndsWithEveryDeviceOnIt()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var (v1, v2) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(Devices, v1, i => ["site=lab"]);

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject
        {
            ["model"] = "scorer", ["version"] = "2.0.0", ["target"] = "site=lab", ["stages"] = "1,30%,100%", ["soak"] = "1s",
        });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        var done = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(120), "completed", "paused", "rolled_back");

        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        var events = done["events"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToArray();
        Assert.Equal(["started", "advanced", "advanced", "completed"], events);
        // Stage by stage: 1 device, then 30 % (3), then the rest, in that order.
        var stages = done["devices"]!.AsArray().GroupBy(d => d!["stage"]!.GetValue<int>()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<int, int> { [0] = 1, [1] = 2, [2] = 7 }, stages);
        Assert.All(done["devices"]!.AsArray(), d => Assert.Equal("installed", d!["state"]!.GetValue<string>()));

        // Every agent serves 2.0.0 itself, and its answers are bare ONNX Runtime's on v2.
        var input = NamedTensor.Floats("features", [1, 8], NamedTensor.RandomFloats(8, seed: 5));
        var v2Path = v2.Files["model"];
        using var bare = new BareOrt(v2Path);
        var expected = bare.Run([input])[0].AsFloats();
        foreach (var agent in bed.Agents)
        {
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(bed.IdOf(agent))!.ServingVersion("scorer") == "2.0.0", TimeSpan.FromSeconds(20), $"{bed.IdOf(agent)} reporting 2.0.0");
            var outputs = await V2Client.InferJsonAsync(agent.Http, "scorer", [input]);
            Assert.Equal(expected, outputs[0].AsFloats());
        }
    }

    [Fact]
    public async Task Rollout_OfAVersionFailingItsGoldenVectors_StopsAtTheCanaryAndNoOtherDeviceEverGetsIt()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        // v3's golden vectors were computed on v2: v3 answers differently and fails them.
        var v3 = bed.BuildPackage("scorer", "3.0.0", V3, goldenFrom: V2, bed.Key);
        await bed.PushAsync(v1);
        await bed.PushAsync(v3);
        await bed.StartAgentsAsync(Devices, v1, i => []);

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "3.0.0", ["stages"] = "1,30%,100%", ["soak"] = "1s" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        var stopped = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(60), "paused", "completed", "rolled_back");

        Assert.Equal("paused", stopped["rollout"]!["state"]!.GetValue<string>());
        Assert.Contains("golden_rate", stopped["rollout"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        var canary = Assert.Single(stopped["devices"]!.AsArray());
        Assert.Equal("failed", canary!["state"]!.GetValue<string>());
        Assert.Equal("golden_failed", canary["reason"]!.GetValue<string>());
        Assert.Equal(0, canary["golden_passed"]!.GetValue<int>());
        Assert.Equal(3, canary["golden_total"]!.GetValue<int>());

        // Time for a wrongly advancing engine to show itself; then no device but the canary ever had a deploy.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var canaryId = canary["device_id"]!.GetValue<string>();
        foreach (var agent in bed.Agents)
        {
            var deviceId = bed.IdOf(agent);
            var deploys = bed.Fleet.Store.ListCommands(deviceId).Where(c => c.Message.Command == "deploy").ToArray();
            Assert.Equal(deviceId == canaryId ? 1 : 0, deploys.Length);
            Assert.Equal("1.0.0", bed.Fleet.Store.GetDevice(deviceId)!.ServingVersion("scorer"));
            Assert.Equal([1L], agent.Models.Find("scorer")!.Versions.Select(v => v.Version));
        }
    }

    [Fact]
    public async Task Rollout_OfAVersionThatPassesGoldenButIsSlower_IsRolledBackByItsLatencyGate()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var fast = OnnxModelBuilder.Mlp(256, [8], seed: 1);
        var slow = OnnxModelBuilder.Mlp(256, [1024, 1024, 1024], seed: 4);
        var (v1, _) = await bed.PushTwoVersionsAsync("ranker", fast, slow);
        await bed.StartAgentsAsync(Devices, v1, i => []);

        using var traffic = new CancellationTokenSource();
        var input = NamedTensor.Floats("features", [1, 256], NamedTensor.RandomFloats(256, seed: 9));
        var load = Task.WhenAll(bed.Agents.Select(async agent =>
        {
            while (!traffic.IsCancellationRequested)
            {
                await V2Client.InferJsonAsync(agent.Http, "ranker", [input]);
                await Task.Delay(5);
            }
        }));
        // Baseline: every device reports v1's latency before the rollout starts.
        await AgentHost.WaitUntilAsync(
            () => bed.Agents.All(a => bed.Fleet.Store.GetDevice(bed.IdOf(a))!.Stats.GetValueOrDefault("ranker@1.0.0")?.P95Ms is not null),
            TimeSpan.FromSeconds(30), "v1 latency from every device");

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject
        {
            ["model"] = "ranker", ["version"] = "2.0.0", ["stages"] = "2,100%", ["soak"] = "3s",
            ["gates"] = new JsonArray("install_rate>=1", "golden_rate>=1", "error_rate<=0.01", "p95_ratio<=3"), ["on_failure"] = "rollback",
        });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        var ended = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(90), "rolled_back", "completed", "paused");
        traffic.Cancel();
        await load;

        Assert.Equal("rolled_back", ended["rollout"]!["state"]!.GetValue<string>());
        Assert.Contains(ended["events"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "rolling_back" && e["message"]!.GetValue<string>().Contains("p95_ratio", StringComparison.Ordinal));
        var updated = ended["devices"]!.AsArray();
        Assert.Equal(2, updated.Count);
        Assert.All(updated, d => Assert.Equal("rolled_back", d!["state"]!.GetValue<string>()));
        foreach (var agent in bed.Agents)
        {
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(bed.IdOf(agent))!.ServingVersion("ranker") == "1.0.0", TimeSpan.FromSeconds(20), $"{bed.IdOf(agent)} back on 1.0.0");
            Assert.Equal(1L, agent.Models.Find("ranker")!.Versions.Single().Version);
        }
    }

    [Fact]
    public async Task Rollout_WithAnOfflineDevice_CompletesAfterItsTimeout_AndTheDeviceAndALateJoinerGetTheVersionWhenTheyConnect()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(2, v1, _ => []);

        // A device the fleet knows, offline when the rollout starts.
        async Task<AgentHost> StartDeviceAsync(string id, string secret)
        {
            var agent = await AgentHost.StartAsync(Path.Combine(bed.Root, id, "models"), Path.Combine(bed.Root, id, "data"), bed.Fleet.AgentArguments(id, secret, bed.TrustedKeys));
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(id)?.Online == true, TimeSpan.FromSeconds(20), $"{id} online");
            return agent;
        }

        v1.InstallAsFirstVersion(Path.Combine(bed.Root, "away", "models"));
        var awaySecret = await bed.Fleet.EnrollAsync("away");
        await (await StartDeviceAsync("away", awaySecret)).DisposeAsync();
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice("away")?.Online == false, TimeSpan.FromSeconds(20), "away offline");

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "100%", ["soak"] = "0s", ["offline_timeout"] = "2s" });
        var done = await bed.Fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(60), "completed", "paused");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        Assert.Equal(2, done["counts"]!["installed"]!.GetValue<int>());
        Assert.Equal(1, done["counts"]!["offline"]!.GetValue<int>());

        // Back online: the pending deploy reaches it. A device enrolled only now gets the version too.
        await using var back = await StartDeviceAsync("away", awaySecret);
        v1.InstallAsFirstVersion(Path.Combine(bed.Root, "newcomer", "models"));
        await using var newcomer = await StartDeviceAsync("newcomer", await bed.Fleet.EnrollAsync("newcomer"));
        foreach (var id in new[] { "away", "newcomer" })
        {
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(id)!.ServingVersion("scorer") == "2.0.0", TimeSpan.FromSeconds(30), $"{id} on 2.0.0");
        }

        Assert.Equal(2L, back.Models.Find("scorer")!.Versions.Single().Version);
    }

    [Fact]
    public async Task Rollout_NeedingApproval_WaitsAfterEachStage_AndFollowsPromotePauseResumeAndAbort()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(4, v1, _ => []);
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject
        {
            ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,2,3,100%", ["soak"] = "0s", ["require_approval"] = true,
        });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        async Task<JsonNode> ActAsync(string action) => (await bed.Fleet.SendAsync(HttpMethod.Post, $"rollouts/{id}/{action}", null))!;
        static string State(JsonNode view) => view["rollout"]!["state"]!.GetValue<string>();

        var waiting = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "waiting_approval");
        Assert.Single(waiting["devices"]!.AsArray());
        var promoted = await ActAsync("promote");
        Assert.Equal(1, promoted["rollout"]!["stage"]!.GetValue<int>());
        waiting = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "waiting_approval");
        Assert.Equal(2, waiting["devices"]!.AsArray().Count);

        Assert.Equal("paused", State(await ActAsync("pause")));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => ActAsync("pause"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, refused.StatusCode);
        // Resumed, the stage's gates still pass, so it is back to waiting for approval at once.
        Assert.Contains(State(await ActAsync("resume")), new[] { "running", "waiting_approval" });
        await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "waiting_approval");
        Assert.Equal("aborted", State(await ActAsync("abort")));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var aborted = await bed.Fleet.RolloutAsync(id);
        Assert.Equal("aborted", State(aborted!));
        Assert.Equal(2, aborted!["devices"]!.AsArray().Count);
        Assert.Equal(["started", "waiting_approval", "promoted", "waiting_approval", "paused", "resumed", "waiting_approval", "aborted"],
            aborted["events"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Rollout_AcrossARestartOfTheFleetService_KeepsItsStateAndHistoryAndCompletes()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(3, v1, _ => []);
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,100%", ["soak"] = "0s", ["require_approval"] = true });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        var before = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "waiting_approval");

        await bed.RestartFleetAsync();

        var after = await bed.Fleet.RolloutAsync(id);
        Assert.Equal("waiting_approval", after!["rollout"]!["state"]!.GetValue<string>());
        Assert.Equal(before["devices"]!.ToJsonString(), after["devices"]!.ToJsonString());
        await AgentHost.WaitUntilAsync(() => bed.Agents.All(a => bed.Fleet.Store.GetDevice(bed.IdOf(a))!.Online), TimeSpan.FromSeconds(30), "the agents reconnected");
        await bed.Fleet.SendAsync(HttpMethod.Post, $"rollouts/{id}/promote", null);
        var done = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(60), "completed");
        Assert.Equal(["started", "waiting_approval", "promoted", "completed"], done["events"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()));
        Assert.All(done["devices"]!.AsArray(), d => Assert.Equal("installed", d!["state"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Rollout_ThroughAnExternalMosquittoBroker_CompletesLikeThroughTheEmbeddedOne()
    {
        await using var mosquitto = await MosquittoBroker.StartAsync();
        await using var bed = await FleetTestbed.StartAsync("--mqtt-url", mosquitto.Url);
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(3, v1, _ => []);

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,100%", ["soak"] = "0s" });
        var done = await bed.Fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(60), "completed", "paused");

        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        Assert.StartsWith(mosquitto.Url, bed.Fleet.MqttUrl, StringComparison.Ordinal);
        foreach (var agent in bed.Agents)
        {
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(bed.IdOf(agent))!.ServingVersion("scorer") == "2.0.0", TimeSpan.FromSeconds(20), $"{bed.IdOf(agent)} on 2.0.0");
        }
    }
}
