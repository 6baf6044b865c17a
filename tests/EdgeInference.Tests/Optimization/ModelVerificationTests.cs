using System.Text.Json.Nodes;
using EdgeInference.Optimization.Import;
using EdgeInference.Optimization.Tflite;
using EdgeInference.Optimization.Verification;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using Google.Protobuf;

namespace EdgeInference.Tests.Optimization;

/// <summary><c>edgefleet models verify</c>: a candidate against its reference, by ONNX Runtime, with gates that decide the exit code.</summary>
public sealed class ModelVerificationTests : IDisposable
{
    private readonly string _work = TestPaths.NewTempDirectory("verify");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task AFaithfulImport_PassesEveryGate_AndTheReportSaysByHowMuch()
    {
        var (reference, candidate) = Import("hey_mycroft");
        var inputs = Inputs("hey_mycroft", [1, 16, 96], 40);
        var report = Path.Combine(_work, "report.json");

        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "verify", reference, candidate, "--inputs", inputs,
            "--max-abs-diff", "1e-4", "--min-cosine", "0.99999", "--min-agreement", "0.999", "--max-p99-diff", "1e-4", "--min-positives-kept", "0.98", "--report", report);

        Assert.True(code == 0, output);
        Assert.Contains("every gate holds", output, StringComparison.Ordinal);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(report))!;
        Assert.Equal(40, json["inputs"]!.GetValue<int>());
        Assert.True(json["passed"]!.GetValue<bool>());
        // A single score has no cosine (it would only compare signs): that gate does not apply.
        var gates = json["gates"]!.AsArray().Select(g => g!["gate"]!.GetValue<string>()).ToList();
        Assert.Contains("max_p99_abs_diff", gates);
        Assert.DoesNotContain("min_cosine", gates);
        Assert.Null(json["outputs"]![0]!["min_cosine"]);
        Assert.True(json["outputs"]![0]!["max_abs_diff"]!.GetValue<double>() <= 1e-4);
    }

    [Fact]
    public async Task ADifferentNetwork_FailsItsGates_WithExitCode7_AndTheNumbers()
    {
        // hey_rhasspy's shipped twins are two different networks: the perfect stand-in for a candidate that drifted.
        var (reference, candidate) = Import("hey_rhasspy");
        var inputs = Inputs("hey_rhasspy", [1, 16, 96], 40);

        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "verify", reference, candidate, "--inputs", inputs, "--max-abs-diff", "1e-4");

        Assert.True(code == 7, output);
        Assert.Contains("FAIL max_abs_diff", output, StringComparison.Ordinal);
        var measured = ModelComparer.Compare(reference, candidate, inputs, new VerificationGates());
        Assert.True(measured.Outputs[0].MaxAbsDiff > 0.01, $"max |Δ| {measured.Outputs[0].MaxAbsDiff}");
        Assert.True(measured.Passed, "with no gates, nothing fails");
    }

    [Fact]
    public void ScoresAreJudgedAsDecisions_AgreementAndPositivesKeptAtTheThreshold()
    {
        var (reference, candidate) = Import("alexa");
        var inputs = Inputs("alexa", [1, 16, 96], 30);

        var report = ModelComparer.Compare(reference, candidate, inputs, new VerificationGates { Threshold = 0.5, MinAgreement = 1 });

        var output = Assert.Single(report.Outputs);
        Assert.Equal(1.0, output.Agreement);
        Assert.NotNull(output.ReferencePositives);
        Assert.True(output.ReferencePositives == 0 ? output.PositivesKept is null : output.PositivesKept == 1.0);
        Assert.True(report.Passed);
    }

    [Fact]
    public async Task InputsItCannotUse_AreRefusedByName()
    {
        var (reference, candidate) = Import("alexa");
        var empty = Directory.CreateDirectory(Path.Combine(_work, "empty")).FullName;
        var wrong = Directory.CreateDirectory(Path.Combine(_work, "wrong")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(wrong, "a.npy"), NpyFile.Write(TensorDataType.Fp32, [1, 3], new byte[12]));

        var (noneCode, none) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "verify", reference, candidate, "--inputs", empty);
        var (wrongCode, wrongShape) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "verify", reference, candidate, "--inputs", wrong);

        Assert.Equal(2, noneCode);
        Assert.Contains("has no .npy files, .json requests or sample folders", none, StringComparison.Ordinal);
        Assert.Equal(2, wrongCode);
        Assert.Contains("a.npy", wrongShape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InferRequestsAsJson_AreInputsToo_MeasuredAsTheSameNpyFilesAre()
    {
        var (reference, candidate) = Import("hey_mycroft");
        var npy = Inputs("hey_mycroft", [1, 16, 96], 10);
        var json = Directory.CreateDirectory(Path.Combine(_work, "json")).FullName;
        foreach (var file in Directory.GetFiles(npy))
        {
            var (_, shape, data) = NpyFile.Read(await File.ReadAllBytesAsync(file));
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray();
            var request = new JsonObject
            {
                ["inputs"] = new JsonArray(new JsonObject
                {
                    ["name"] = "onnx::Flatten_0", ["datatype"] = "FP32", ["shape"] = new JsonArray([.. shape.Select(d => JsonValue.Create(d))]),
                    ["data"] = new JsonArray([.. values.Select(v => JsonValue.Create(v))]),
                }),
            };
            await File.WriteAllTextAsync(Path.Combine(json, Path.GetFileNameWithoutExtension(file) + ".json"), request.ToJsonString());
        }

        var fromNpy = ModelComparer.Compare(reference, candidate, npy, new VerificationGates());
        var fromJson = ModelComparer.Compare(reference, candidate, json, new VerificationGates());

        Assert.Equal(10, fromJson.Inputs);
        Assert.Equal(fromNpy.Outputs[0].MaxAbsDiff, fromJson.Outputs[0].MaxAbsDiff);
        Assert.Equal(fromNpy.Outputs[0].Agreement, fromJson.Outputs[0].Agreement);

        await File.WriteAllTextAsync(Path.Combine(json, "zz.json"), """{"inputs": [{"name": "onnx::Flatten_0", "datatype": "INT64", "shape": [1], "data": [1]}]}""");
        var refused = Assert.Throws<InvalidDataException>(() => ModelComparer.Compare(reference, candidate, json, new VerificationGates()));
        Assert.Contains("zz.json: input 'onnx::Flatten_0' is INT64", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>The shipped ONNX twin as the reference, the import of the TFLite one as the candidate.</summary>
    private (string Reference, string Candidate) Import(string name)
    {
        var candidate = Path.Combine(_work, name + ".imported.onnx");
        File.WriteAllBytes(candidate, TfliteImporter.Import(TfliteModel.Load(Path.Combine(TestPaths.TfliteModels, name + ".tflite")), name).Model.ToByteArray());
        return (Path.Combine(TestPaths.SampleModels, name, "1", "model.onnx"), candidate);
    }

    private string Inputs(string name, long[] shape, int count)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_work, name + "-inputs")).FullName;
        var random = new Random(11);
        for (var i = 0; i < count; i++)
        {
            var values = Enumerable.Range(0, (int)shape.Aggregate((a, b) => a * b)).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"{i:000}.npy"), NpyFile.Write(TensorDataType.Fp32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
        }

        return folder;
    }
}
