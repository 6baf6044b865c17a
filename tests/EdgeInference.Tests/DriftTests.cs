using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using EdgeInference.Agent.Drift;
using EdgeInference.Runtime.Drift;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests;

/// <summary>Drift statistics: profiles built from reference inputs, sketches on the hot path, windows published over MQTT.</summary>
public sealed class DriftTests : IDisposable
{
    private const string Device = "dev-drift";
    private const int Rows = 300;
    private readonly string _models = GeneratedModels.Repository(("tabular", 1, OnnxModelBuilder.Mlp(8, [16], seed: 5), null));

    public void Dispose() => Directory.Delete(_models, recursive: true);

    [Fact]
    public void DriftMath_IsZeroForTheReferenceItself_AndGrowsWithTheShift()
    {
        double[] reference = [0, 0.25, 0.25, 0.25, 0.25, 0];
        long[] same = [0, 25, 25, 25, 25, 0];
        long[] shifted = [0, 0, 25, 25, 25, 25];
        long[] disjoint = [0, 0, 0, 0, 0, 100];

        Assert.Equal(0, DriftMath.Psi(reference, 100, same), 9);
        Assert.Equal(0, DriftMath.Ks(reference, same), 9);
        Assert.Equal(0, DriftMath.JsDistance(reference, same), 9);
        Assert.True(DriftMath.Psi(reference, 100, shifted) > 1);
        Assert.Equal(0.25, DriftMath.Ks(reference, shifted), 9);
        Assert.Equal(1, DriftMath.JsDistance(reference, disjoint), 9);
        Assert.True(DriftMath.Psi(reference, 100, disjoint) > DriftMath.Psi(reference, 100, shifted));
    }

    [Fact]
    public void Npy_WrittenThenRead_GivesBackTypeShapeAndBytes_AndABadHeaderIsNamed()
    {
        var values = NamedTensor.RandomFloats(24, seed: 1);
        var file = NpyFile.Write(TensorDataType.Fp32, [2, 3, 4], MemoryMarshal.AsBytes(values.AsSpan()));

        var (type, shape, data) = NpyFile.Read(file);

        Assert.Equal(TensorDataType.Fp32, type);
        Assert.Equal([2L, 3, 4], shape);
        Assert.Equal(values, MemoryMarshal.Cast<byte, float>(data).ToArray());
        Assert.Equal(0, (file.Length - data.Length) % 64);
        var bigEndian = file.ToArray();
        bigEndian[file.AsSpan().IndexOf("'<f4'"u8) + 1] = (byte)'>';
        Assert.Contains("'>f4' is not supported", Assert.Throws<FormatException>(() => NpyFile.Read(bigEndian)).Message, StringComparison.Ordinal);
        Assert.Contains("needs 96 bytes", Assert.Throws<FormatException>(() => NpyFile.Read(file.AsSpan(0, file.Length - 4))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfileCommand_FromNpyFiles_DescribesEveryInputElementAndTheOutput()
    {
        var inputs = ReferenceInputs(files: 4);
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();

            var exit = await ProfileCommand.RunAsync(["--models", _models, "--model", "tabular", "--inputs", inputs], output, error, CancellationToken.None);

            Assert.True(exit == 0, error.ToString());
            var profile = JsonNode.Parse(File.ReadAllText(Path.Combine(_models, "tabular", "1", "profile.json")))!;
            Assert.Equal(4, profile["requests"]!.GetValue<long>());
            var features = profile["features"]!.AsArray();
            Assert.Equal([.. Enumerable.Range(0, 8).Select(i => $"features[{i}]"), "score"], features.Select(f => f!["name"]!.GetValue<string>()));
            foreach (var feature in features.Take(8))
            {
                Assert.Equal(4 * Rows, feature!["count"]!.GetValue<long>());
                Assert.InRange(feature["mean"]!.GetValue<double>(), -0.1, 0.1); // uniform on [-1, 1)
                Assert.InRange(feature["min"]!.GetValue<double>(), -1, -0.99);
                var histogram = feature["histogram"]!.AsArray().Select(h => h!.GetValue<double>()).ToArray();
                Assert.Equal(feature["bin_edges"]!.AsArray().Count + 1, histogram.Length);
                Assert.Equal(1, histogram.Sum(), 6);
                Assert.Equal(0, histogram[0]); // nothing below the reference's own minimum
            }

            Assert.Contains("9 features", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(inputs, recursive: true);
        }
    }

    [Fact]
    public async Task ProfileCommand_WithAnInputOfTheWrongShape_FailsNamingTheFile()
    {
        var inputs = TestPaths.NewTempDirectory("reference");
        try
        {
            File.WriteAllBytes(Path.Combine(inputs, "bad.npy"), NpyFile.Write(TensorDataType.Fp32, [2, 5], new byte[40]));
            var error = new StringWriter();

            var exit = await ProfileCommand.RunAsync(["--models", _models, "--model", "tabular", "--inputs", inputs], TextWriter.Null, error, CancellationToken.None);

            Assert.Equal(1, exit);
            Assert.Contains("bad.npy", error.ToString(), StringComparison.Ordinal);
            Assert.Contains("'features' has shape [2,5]", error.ToString(), StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_models, "tabular", "1", "profile.json")));
        }
        finally
        {
            Directory.Delete(inputs, recursive: true);
        }
    }

    [Fact]
    public async Task ShiftedInputs_AgainstTheProfile_RaiseTheDriftFlagWithinOneWindow_WhileTheReferenceDistributionDoesNot()
    {
        var inputs = ReferenceInputs(files: 4);
        Assert.Equal(0, await ProfileCommand.RunAsync(["--models", _models, "--model", "tabular", "--inputs", inputs], TextWriter.Null, TextWriter.Null, CancellationToken.None));
        Directory.Delete(inputs, recursive: true);
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device, "--drift-interval", "00:00:00.300");

        var unshifted = await WindowAfterAsync(agent, recorder, Rows1(seed: 100, shift: 0), 1);
        var shifted = await WindowAfterAsync(agent, recorder, Rows1(seed: 101, shift: 1), 2);

        Assert.Equal("profile", unshifted["reference"]!.GetValue<string>());
        Assert.Equal("scored", unshifted["state"]!.GetValue<string>());
        Assert.False(unshifted["drift"]!.GetValue<bool>(), unshifted.ToJsonString());
        Assert.All(Inputs(unshifted), f => Assert.True(f["psi"]!.GetValue<double>() < 0.25 && !f["drift"]!.GetValue<bool>(), f.ToJsonString()));
        Assert.True(shifted["drift"]!.GetValue<bool>(), shifted.ToJsonString());
        Assert.All(Inputs(shifted), f =>
        {
            Assert.True(f["drift"]!.GetValue<bool>());
            Assert.True(f["psi"]!.GetValue<double>() > 1, f.ToJsonString());
            Assert.InRange(f["mean"]!.GetValue<double>(), 0.9, 1.1);
            Assert.InRange(f["out_of_range_count"]!.GetValue<long>(), Rows * 0.4, Rows * 0.6); // the half above the reference's max
        });
        var metrics = await agent.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("edge_model_drift{model=\"tabular\",version=\"1\"} 1", metrics, StringComparison.Ordinal);
        Assert.Empty(broker.Errors);
    }

    [Fact]
    public async Task WithoutAProfile_OutputDriftIsMeasuredAgainstTheFirstWindowAfterActivation()
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device, "--drift-interval", "00:00:00.300");

        var first = await WindowAfterAsync(agent, recorder, Rows1(seed: 200, shift: 0), 1);
        var second = await WindowAfterAsync(agent, recorder, Rows1(seed: 201, shift: 0), 2);
        var third = await WindowAfterAsync(agent, recorder, Rows1(seed: 202, shift: 1), 3);

        Assert.Equal(("none", "learning"), (first["reference"]!.GetValue<string>(), first["state"]!.GetValue<string>()));
        Assert.All(first["features"]!.AsArray(), f => Assert.Null(f!["psi"]));
        Assert.Equal(("first_window", "scored", false), (second["reference"]!.GetValue<string>(), second["state"]!.GetValue<string>(), second["drift"]!.GetValue<bool>()));
        var output = third["features"]!.AsArray().Single(f => f!["kind"]!.GetValue<string>() == "output")!;
        Assert.Equal("score", output["name"]!.GetValue<string>());
        Assert.True(output["drift"]!.GetValue<bool>(), third.ToJsonString());
    }

    [Fact]
    public async Task UnreadableProfile_IsNamedInTheDriftWindow_AndServingGoesOn()
    {
        File.WriteAllText(Path.Combine(_models, "tabular", "1", "profile.json"), "{\"features\": [{\"name\": \"features[0]\"");
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device, "--drift-interval", "00:00:00.300");

        var window = await WindowAfterAsync(agent, recorder, Rows1(seed: 300, shift: 0), 1);

        Assert.Contains("profile.json: not a valid profile", window["profile_error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("learning", window["state"]!.GetValue<string>());
    }

    private static NamedTensor Rows1(int seed, float shift) =>
        NamedTensor.Floats("features", [Rows, 8], NamedTensor.RandomFloats(Rows * 8, seed).Select(v => v + shift).ToArray());

    private static IEnumerable<JsonNode> Inputs(JsonNode window) => window["features"]!.AsArray().Where(f => f!["kind"]!.GetValue<string>() == "input")!;

    /// <summary>Sends one batched request (all its rows land in one window) and returns the drift window that holds it.</summary>
    private static async Task<JsonNode> WindowAfterAsync(AgentHost agent, MqttRecorder recorder, NamedTensor rows, int windows)
    {
        await V2Client.InferJsonAsync(agent.Http, "tabular", [rows]);
        await recorder.WaitForAsync(r => r.Payloads(Device, "drift").Count >= windows, TimeSpan.FromSeconds(20), $"drift window {windows}");
        var window = recorder.Payloads(Device, "drift")[windows - 1];
        Assert.Equal(1, window["requests"]!.GetValue<long>());
        return window;
    }

    private static string ReferenceInputs(int files)
    {
        var inputs = TestPaths.NewTempDirectory("reference");
        for (var i = 0; i < files; i++)
        {
            var values = NamedTensor.RandomFloats(Rows * 8, seed: i);
            File.WriteAllBytes(Path.Combine(inputs, $"{i:000}.npy"), NpyFile.Write(TensorDataType.Fp32, [Rows, 8], MemoryMarshal.AsBytes(values.AsSpan())));
        }

        return inputs;
    }
}
