using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>Shadow mode: before switching, a device's new version replays its live requests and the agreement gates the rollout.</summary>
public sealed class ShadowModeTests
{
    private const int Devices = 3;
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] Different = OnnxModelBuilder.Mlp(8, [16], seed: 3);

    [Fact]
    public async Task Rollout_WithShadowMode_ReplaysLiveRequestsOnEveryDeviceAndCompletesWhenTheNewVersionAgrees()
    {
        await using var bed = await FleetTestbed.StartAsync();
        // 2.0.0 is the same network repackaged (say, re-exported): it must agree on every live request.
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V1);
        await bed.StartAgentsAsync(Devices, v1, i => []);
        await using var traffic = Traffic.Start(bed);
        foreach (var bad in new[] { new JsonObject { ["shadow_requests"] = -1 }, new JsonObject { ["shadow_requests"] = 5, ["shadow_timeout"] = "25h" }, new JsonObject { ["shadow_requests"] = 5, ["shadow_tolerance"] = -0.1 } })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => StartAsync(bed, "2.0.0", bad));
            Assert.Contains("shadow mode takes", refused.Message, StringComparison.Ordinal);
        }

        var id = await StartAsync(bed, "2.0.0", new JsonObject { ["shadow_requests"] = 5, ["shadow_timeout"] = "30s" });
        var done = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(90), "completed", "paused", "rolled_back");

        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        Assert.Contains(done["rollout"]!["last_gate_results"]!.AsArray(), g => g!["gate"]!.GetValue<string>() == "agreement>=0.9" && g["samples"]!.GetValue<long>() > 0);
        Assert.Equal(Devices, done["devices"]!.AsArray().Count);
        Assert.All(done["devices"]!.AsArray(), d =>
        {
            Assert.Equal("installed", d!["state"]!.GetValue<string>());
            Assert.Equal(5, d["shadow_requests"]!.GetValue<int>());
            Assert.Equal(1.0, d["shadow_agreement"]!.GetValue<double>());
        });
    }

    [Fact]
    public async Task Rollout_WithShadowMode_OfAVersionThatDisagreesWithLiveAnswers_IsRolledBackAtTheCanaryByItsAgreementGate()
    {
        await using var bed = await FleetTestbed.StartAsync();
        // 2.0.0 passes its own golden vectors but answers live requests differently from 1.0.0.
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, Different);
        await bed.StartAgentsAsync(Devices, v1, i => []);
        await using var traffic = Traffic.Start(bed);

        var id = await StartAsync(bed, "2.0.0", new JsonObject { ["shadow_requests"] = 5, ["shadow_timeout"] = "30s", ["shadow_tolerance"] = 0.001, ["on_failure"] = "rollback" });
        var ended = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(90), "rolled_back", "completed", "paused");

        Assert.Equal("rolled_back", ended["rollout"]!["state"]!.GetValue<string>());
        Assert.Contains("agreement", ended["rollout"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        var canary = Assert.Single(ended["devices"]!.AsArray());
        Assert.Equal(5, canary!["shadow_requests"]!.GetValue<int>());
        Assert.True(canary["shadow_agreement"]!.GetValue<double>() < 0.9, canary.ToJsonString());
        var canaryId = canary["device_id"]!.GetValue<string>();
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(canaryId)!.ServingVersion("scorer") == "1.0.0", TimeSpan.FromSeconds(20), "the canary back on 1.0.0");
        Assert.All(bed.Agents.Where(a => bed.IdOf(a) != canaryId), a => Assert.DoesNotContain(bed.Fleet.Store.ListCommands(bed.IdOf(a)), c => c.Message.Command == "deploy"));
    }

    private static async Task<string> StartAsync(FleetTestbed bed, string version, JsonObject extra)
    {
        var body = new JsonObject { ["model"] = "scorer", ["version"] = version, ["stages"] = "1,100%", ["soak"] = "1s" };
        foreach (var (key, value) in extra.ToArray())
        {
            extra.Remove(key);
            body[key] = value;
        }

        var started = await bed.Fleet.StartRolloutAsync(body);
        return started!["rollout"]!["id"]!.GetValue<string>();
    }

    /// <summary>Live requests to every agent until disposed: a rotation of random rows.</summary>
    private sealed class Traffic : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _load = Task.CompletedTask;

        public static Traffic Start(FleetTestbed bed)
        {
            var traffic = new Traffic();
            var token = traffic._stop.Token;
            traffic._load = Task.WhenAll(bed.Agents.Select(async agent =>
            {
                for (var i = 0; !token.IsCancellationRequested; i++)
                {
                    await V2Client.InferJsonAsync(agent.Http, "scorer", [NamedTensor.Floats("features", [1, 8], NamedTensor.RandomFloats(8, seed: i % 50))]);
                    await Task.Delay(20, CancellationToken.None);
                }
            }));
            return traffic;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _load;
            _stop.Dispose();
        }
    }
}
