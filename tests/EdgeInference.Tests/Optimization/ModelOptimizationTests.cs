using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Cli;
using EdgeInference.Optimization.Optimize;
using EdgeInference.Optimization.Quantization;
using EdgeInference.Optimization.Verification;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Tests.Optimization;

/// <summary>
/// <c>edgefleet models optimize</c>: variants tried and judged on held-out speech, the smallest passing one kept as a
/// package folder, a refusal with the numbers when none passes, and that package installed and served by a device.
/// </summary>
public sealed class ModelOptimizationTests(WakeWordSpeechFixture speech) : IClassFixture<WakeWordSpeechFixture>, IDisposable
{
    private static readonly string[] WakeWordGates = ["--min-agreement", "0.999", "--min-positives-kept", "0.98", "--max-p99-diff", "0.05"];

    private readonly string _work = TestPaths.NewTempDirectory("optimize");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Optimize_KeepsTheSmallestPassingVariant_AndAPushedPackageOfIt_IsInstalledAndServedByADevice()
    {
        var package = Path.Combine(_work, "package");
        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(),
            ["models", "optimize", WakeWordSpeechFixture.Model("hey_jarvis"), "--calibration", speech.CalibrationClassifier, "--heldout", speech.HeldOutClassifier, "--out", package, .. WakeWordGates]);

        Assert.True(code == ExitCodes.Ok, output);
        var report = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(package, "report.json")), EdgeInference.Optimization.Inspection.OptimizationJsonContext.Default.OptimizationReport)!;
        Assert.Equal(QuantizationVariant.All.Count, report.Variants.Count);
        var kept = report.Variants.Single(v => v.Name == report.Chosen);
        Assert.Equal(report.Variants.Where(v => v.Passed).Min(v => v.Bytes), kept.Bytes);
        Assert.True(kept.SizeRatio <= 0.30, $"{kept.SizeRatio}×");
        Assert.True(kept.Speedup >= 1, $"{kept.Speedup}×");
        Assert.All(report.Variants.Where(v => !v.Passed), v => Assert.False(string.IsNullOrEmpty(v.Failure)));
        var golden = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(package, "golden.json")), PackageJsonContext.Default.GoldenSet)!;
        Assert.Equal(8, golden.Cases.Count);
        Assert.Equal(report.GoldenTolerance, golden.AbsoluteTolerance);
        Assert.Contains(golden.Cases, c => c.Expected[0].Data[0] >= 0.5);
        // The drift reference: the kept model's features over every calibration input (the input's summaries, the score).
        var profile = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(package, "profile.json")), ContractJsonContext.Default.DriftProfile)!;
        Assert.Equal(Directory.EnumerateFiles(speech.CalibrationClassifier, "*.npy").Count(), profile.Requests);
        Assert.Equal(["x.1:mean", "x.1:std", "53"], profile.Features.Select(f => f.Name));
        Assert.InRange(profile.Features[2].Min, 0, profile.Features[2].Max);
        Assert.InRange(profile.Features[2].Max, 0.5, 1);

        // The package folder goes to the fleet as it is; a device checks the golden vectors, switches, and serves it.
        var root = Path.Combine(_work, "fleet");
        await using var fleet = await FleetHost.StartAsync(Path.Combine(root, "data"));
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };
        (code, output) = await CliRunner.RunAsync(env, "keys", "generate", "--out", Path.Combine(root, "keys"), "--name", "ops");
        Assert.True(code == ExitCodes.Ok, output);
        var trusted = Directory.CreateDirectory(Path.Combine(root, "trusted")).FullName;
        File.Copy(Path.Combine(root, "keys", "ops.pub.pem"), Path.Combine(trusted, "ops.pub.pem"));
        (code, output) = await CliRunner.RunAsync(env, "models", "push", package, "--name", "hey_jarvis", "--version", "2.0.0", "--sign-key", Path.Combine(root, "keys", "ops.key.pem"));
        Assert.True(code == ExitCodes.Ok, output);

        var secret = await fleet.EnrollAsync("quantized-0", "ring=lab");
        var models = Directory.CreateDirectory(Path.Combine(root, "device", "models")).FullName;
        await using var agent = await AgentHost.StartAsync(models, Path.Combine(root, "device", "data"), fleet.AgentArguments("quantized-0", secret, trusted));
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("quantized-0")?.Online == true, TimeSpan.FromSeconds(30), "the device online");
        (code, output) = await CliRunner.RunAsync(env, "rollouts", "start", "--model", "hey_jarvis@2.0.0", "--target", "ring=lab", "--stages", "100%", "--soak", "1s", "--json");
        Assert.True(code == ExitCodes.Ok, output);
        (code, output) = await CliRunner.RunAsync(env, "rollouts", "status", JsonNode.Parse(output)!["rollout"]!["id"]!.GetValue<string>(), "--watch", "--interval", "0.2");
        Assert.True(code == ExitCodes.Ok && output.Contains("completed", StringComparison.Ordinal), output);

        var input = golden.Cases[0].Inputs[0];
        var values = input.Data.Select(v => (float)v).ToArray();
        var served = await V2Client.InferJsonAsync(agent.Http, "hey_jarvis", [new NamedTensor(input.Name, TensorDataType.Fp32, [.. input.Shape], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray())]);
        using var bare = new InferenceSession(Path.Combine(package, "model.onnx"));
        var expected = Testing.Speech.WakeWordFeatures.Run(bare, values, [.. input.Shape]);
        Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(served.Single().Data).ToArray());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(package, "profile.json")), await File.ReadAllBytesAsync(Directory.GetFiles(models, "profile.json", SearchOption.AllDirectories).Single()));
    }

    [Fact]
    public async Task WhenNoVariantPasses_OptimizeRefuses_WithEachVariantsNumbers()
    {
        var variants = new[] { new QuantizationVariant(CalibrationMethod.MinMax, true), new QuantizationVariant(CalibrationMethod.Entropy, true) };

        var package = await ModelOptimizer.OptimizeAsync(WakeWordSpeechFixture.Model("embedding"), speech.CalibrationEmbedding, speech.HeldOutEmbedding,
            new OptimizationOptions { Gates = new VerificationGates { MinCosine = 0.995 }, Variants = variants }, CancellationToken.None);

        Assert.Null(package.Model);
        Assert.Null(package.Profile);
        Assert.Null(package.Report.Chosen);
        Assert.All(package.Report.Variants, v => Assert.StartsWith("min_cosine 0.9", v.Failure, StringComparison.Ordinal));
        // Small enough, and (docs/benchmarks.md: timings belong to the benchmark, not to a test run beside others) faster.
        Assert.All(package.Report.Variants, v => Assert.True(v.SizeRatio <= 0.35, $"{v.Name}: {v.SizeRatio}×"));
    }

    [Fact]
    public async Task Optimize_ImportsATfliteModelFirst_AndJudgesVariantsAgainstTheImport()
    {
        var package = Path.Combine(_work, "tflite");
        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(),
            ["models", "optimize", Path.Combine(TestPaths.TfliteModels, "alexa.tflite"), "--calibration", speech.CalibrationClassifier, "--heldout", speech.HeldOutClassifier, "--out", package, "--json", .. WakeWordGates]);

        Assert.True(code == ExitCodes.Ok, output);
        var report = JsonNode.Parse(output)!;
        Assert.Equal(3, report["import"]!["converted"]!["FULLY_CONNECTED"]!.GetValue<int>());
        Assert.Equal("float.onnx", report["variants"]![0]!["verification"]!["reference"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(package, "model.onnx")));
    }

    [Fact]
    public async Task Optimize_WithoutAnAccuracyGate_IsRefused()
    {
        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(),
            "models", "optimize", WakeWordSpeechFixture.Model("alexa"), "--calibration", speech.CalibrationClassifier, "--heldout", speech.HeldOutClassifier, "--out", _work);

        Assert.Equal(2, code);
        Assert.Contains("give at least one", output, StringComparison.Ordinal);
    }
}
