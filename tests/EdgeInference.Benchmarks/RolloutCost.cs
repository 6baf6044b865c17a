using EdgeInference.Contracts;
using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Benchmarks;

/// <summary>
/// How long a staged rollout takes end to end on loopback: the fleet service in process with ten agents, stages
/// 1, 30 %, 100 %, no soak, and where each device's install time goes (from its own replies).
/// </summary>
internal static class RolloutCost
{
    public static async Task PrintAsync(int devices)
    {
        Console.WriteLine("| model | size | devices | rollout wall s | install p50 ms | install max ms | verify+queue p50 ms | download+stage p50 ms | test (load, warm-up, golden) p50 ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        await MeasureAsync("Mlp(8,[16])", OnnxModelBuilder.Mlp(8, [16], seed: 1), OnnxModelBuilder.Mlp(8, [16], seed: 2), devices);
        await MeasureAsync("Mlp(512,[1024,512])", OnnxModelBuilder.Mlp(512, [1024, 512], seed: 1), OnnxModelBuilder.Mlp(512, [1024, 512], seed: 2), devices);
    }

    private static async Task MeasureAsync(string name, byte[] v1Model, byte[] v2Model, int devices)
    {
        await using var bed = await FleetTestbed.StartAsync();
        var v1 = bed.BuildPackage("m", "1.0.0", v1Model, goldenFrom: v1Model, bed.Key);
        await bed.PushAsync(v1);
        await bed.PushAsync(bed.BuildPackage("m", "2.0.0", v2Model, goldenFrom: v2Model, bed.Key));
        await bed.StartAgentsAsync(devices, v1, _ => []);

        var clock = Stopwatch.StartNew();
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "m", ["version"] = "2.0.0", ["stages"] = "1,30%,100%", ["soak"] = "0s" });
        await bed.Fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromMinutes(5), "completed");
        var wall = clock.Elapsed.TotalSeconds;

        var install = new List<double>();
        var verify = new List<double>();
        var download = new List<double>();
        var test = new List<double>();
        foreach (var command in bed.Fleet.Store.ListCommands(null).Where(c => c.Message.Command == CommandNames.Deploy))
        {
            DateTimeOffset At(UpdateStep step) => command.Replies.First(r => r.Step == step).Timestamp;
            install.Add((At(UpdateStep.Switch) - command.CreatedAt).TotalMilliseconds);
            verify.Add((At(UpdateStep.Download) - command.CreatedAt).TotalMilliseconds);
            download.Add((At(UpdateStep.Test) - At(UpdateStep.Download)).TotalMilliseconds);
            test.Add((At(UpdateStep.Switch) - At(UpdateStep.Test)).TotalMilliseconds);
        }

        static double P50(List<double> values) => values.Order().ElementAt(values.Count / 2);
        Console.WriteLine($"| {name} | {v2Model.Length / 1024.0:0} KiB | {devices} | {wall:0.0} | {P50(install):0} | {install.Max():0} | {P50(verify):0} | {P50(download):0} | {P50(test):0} |");
    }
}
