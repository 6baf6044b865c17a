using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Storage;

/// <summary>A damaged database never stops the agent: it is kept aside for inspection and a new one starts.</summary>
public sealed class CorruptDatabaseTests
{
    [Fact]
    public async Task AnAgentWhosePredictionLogAndOutboxAreGarbage_MovesBothAside_AndServesAndReports()
    {
        var root = TestPaths.NewTempDirectory("corrupt-db");
        var models = Path.Combine(root, "models");
        OnnxModelBuilder.Write(Path.Combine(models, "scorer", "1"), OnnxModelBuilder.Mlp(8, [16]));
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        var garbage = new byte[65536];
        new Random(17).NextBytes(garbage);
        await File.WriteAllBytesAsync(Path.Combine(data, "predictions.db"), garbage);
        await File.WriteAllBytesAsync(Path.Combine(data, "outbox.db"), garbage);

        await using var fleet = await FleetHost.StartAsync();
        var secret = await fleet.EnrollAsync("corrupt-a");
        await using var agent = await AgentHost.StartAsync(models, data, fleet.AgentArguments("corrupt-a", secret, Path.Combine(root, "trusted")));

        var outputs = await V2Client.InferJsonAsync(agent.Http, "scorer", [NamedTensor.Floats("features", [1, 8], new float[8])]);
        Assert.Equal(TensorDataType.Fp32, outputs[0].Type);
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("corrupt-a")?.LatestTelemetry is not null, TimeSpan.FromSeconds(20), "telemetry through the new outbox");
        foreach (var database in new[] { "predictions.db", "outbox.db" })
        {
            var aside = Assert.Single(Directory.GetFiles(data, database + ".corrupt-*"), f => !f.EndsWith(".journal", StringComparison.Ordinal));
            Assert.Equal(garbage, await File.ReadAllBytesAsync(aside));
        }
    }
}
