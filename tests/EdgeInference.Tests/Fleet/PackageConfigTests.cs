using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>A package's own config.json (providers, cache, warm-up inputs) travels with the version it belongs to.</summary>
public sealed class PackageConfigTests
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);

    [Fact]
    public async Task Rollout_OfAPackageWithItsOwnConfig_ServesTheNewVersionWithThatConfig_AndABrokenConfigStopsAtTheCanary()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        const string config = """{"execution_providers": ["CPU"], "cache": {"enabled": true}, "warmup": {"iterations": 2, "inputs": [{"name": "features", "shape": [4, 8], "value": 0.5}]}}""";
        var v2 = bed.BuildPackage("scorer", "2.0.0", V2, goldenFrom: V2, bed.Key, config: config);
        var v3 = bed.BuildPackage("scorer", "3.0.0", V2, goldenFrom: V2, bed.Key, config: """{"batching": {"max_batch_size": -3}}""");
        foreach (var package in new[] { v1, v2, v3 })
        {
            await bed.PushAsync(package);
        }

        await bed.StartAgentsAsync(2, v1, _ => []);
        Assert.All(bed.Agents, a => Assert.False(a.Models.Find("scorer")!.Versions.Single().IsCaching));

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,100%", ["soak"] = "0s" });
        var done = await bed.Fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(60), "completed", "paused", "rolled_back");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        foreach (var agent in bed.Agents)
        {
            await AgentHost.WaitUntilAsync(() => agent.Models.Find("scorer")!.Versions is [{ Version: 2, State: EdgeInference.Runtime.Models.ModelVersionState.Ready }, ..], TimeSpan.FromSeconds(20), "2.0.0 serving");
            var serving = agent.Models.Find("scorer")!.Versions[0];
            Assert.True(serving.IsCaching);
            Assert.Empty(serving.ExecutionProviderNotes);
            Assert.Equal(2, serving.Config.Warmup!.Iterations);
        }

        var broken = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "3.0.0", ["stages"] = "1,100%", ["soak"] = "0s" });
        var stopped = await bed.Fleet.WaitForRolloutAsync(broken!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(60), "paused", "completed", "rolled_back");
        Assert.Equal("paused", stopped["rollout"]!["state"]!.GetValue<string>());
        var canary = Assert.Single(stopped["devices"]!.AsArray());
        Assert.Equal("failed", canary!["state"]!.GetValue<string>());
        Assert.Equal("load_failed", canary["reason"]!.GetValue<string>());
        Assert.Contains("max_batch_size", canary["message"]?.GetValue<string>() ?? canary.ToJsonString(), StringComparison.Ordinal);
        Assert.All(bed.Agents, a => Assert.Equal(2, a.Models.Find("scorer")!.Versions[0].Version));
    }
}
