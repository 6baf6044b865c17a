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
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        var v2 = bed.BuildPackage("scorer", "2.0.0", V2, goldenFrom: V2, bed.Key);
        await bed.PushAsync(v1);
        await bed.PushAsync(v2);
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
}
