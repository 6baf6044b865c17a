using System.Text.Json.Nodes;
using EdgeInference.Optimization.Quantization;
using EdgeInference.Optimization.Verification;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EdgeInference.Tests.Optimization;

/// <summary>
/// <c>edgefleet models quantize</c> on the sample models, calibrated on espeak-ng speech and judged on other voices:
/// size, the integer kernels ONNX Runtime runs, decisions kept, determinism, and refusals.
/// </summary>
public sealed class ModelQuantizationTests(WakeWordSpeechFixture speech) : IClassFixture<WakeWordSpeechFixture>, IDisposable
{
    private static readonly QuantizationOptions Entropy = new() { Method = CalibrationMethod.Entropy, PerChannel = true };

    private readonly string _work = TestPaths.NewTempDirectory("quantize");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("hey_jarvis", 0.30)]
    [InlineData("alexa", 0.30)]
    [InlineData("embedding", 0.35)]
    public void PerChannelQdq_ShrinksEachModelToItsTarget(string name, double ratio)
    {
        var quantized = Quantize(name, new QuantizationOptions { PerChannel = true });

        Assert.True(quantized.Report.SizeRatio <= ratio, $"{name}: {quantized.Report.QuantizedBytes} of {quantized.Report.FloatBytes} bytes = {quantized.Report.SizeRatio}×");
        Assert.Equal(quantized.Bytes.Length, quantized.Report.QuantizedBytes);
        var model = ModelProto.Parser.ParseFrom(quantized.Bytes);
        Assert.DoesNotContain(AllGraphs(model.Graph).SelectMany(g => g.Node), n => n.OpType is "Conv" or "Gemm" && WeightIsFloat(model, n));
    }

    [Fact]
    public void HeyJarvisWeightsInsideItsIfBranch_AreQuantizedThere()
    {
        var model = ModelProto.Parser.ParseFrom(Quantize("hey_jarvis", Entropy).Bytes);

        var then = model.Graph.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;
        Assert.Equal(3, then.Node.Count(n => n.OpType == "Gemm" && n.Input[1].EndsWith("_DequantizeLinear_Output", StringComparison.Ordinal)));
        Assert.Contains(then.Initializer, i => i.Name.StartsWith("verifier_model.1.weight", StringComparison.Ordinal) && i.DataType == (int)TensorProto.Types.DataType.Int8);
        Assert.DoesNotContain(AllGraphs(model.Graph).SelectMany(g => g.Initializer), i => i.Name == "verifier_model.1.weight");
    }

    [Fact]
    public void OnnxRuntimeRunsTheQuantizedNodesAsIntegerKernels_NeverDequantizingWeightsForAFloatOne()
    {
        var nodes = OptimizedByOnnxRuntime(Quantize("embedding", Entropy).Bytes);

        Assert.Equal(20, nodes.Count(n => n.OpType == "QLinearConv"));
        Assert.DoesNotContain(nodes, n => n.OpType == "Conv");
    }

    [Fact]
    public void DynamicMode_NeedsNoCalibration_AndOnnxRuntimeRunsEachGemmAsOneIntegerKernel()
    {
        var quantized = ModelQuantizer.Quantize(WakeWordSpeechFixture.Model("hey_jarvis"), (string?)null, new QuantizationOptions { Mode = QuantizationMode.Dynamic, PerChannel = true });
        var candidate = Path.Combine(_work, "hey_jarvis.dynamic.onnx");
        File.WriteAllBytes(candidate, quantized.Bytes);

        Assert.Equal(6, quantized.Report.Quantized["Gemm"]);
        Assert.Equal(0, quantized.Report.CalibrationInputs);
        Assert.True(quantized.Report.SizeRatio <= 0.30, $"{quantized.Report.SizeRatio}×");
        var nodes = OptimizedByOnnxRuntime(quantized.Bytes);
        Assert.Equal(6, nodes.Count(n => n.OpType == "DynamicQuantizeMatMul"));
        Assert.DoesNotContain(nodes, n => n.OpType is "Gemm" or "MatMulInteger");
        var report = ModelComparer.Compare(WakeWordSpeechFixture.Model("hey_jarvis"), candidate, speech.HeldOutClassifier, new VerificationGates { MaxP99AbsDiff = 0.05, MinAgreement = 0.99 });
        Assert.True(report.Passed, string.Join("; ", report.Gates.Select(g => $"{g.Gate} {g.Measured}")));
    }

    [Fact]
    public void Int8HeyJarvis_KeepsItsDecisionsOnVoicesItWasNotCalibratedWith()
    {
        var candidate = Path.Combine(_work, "hey_jarvis.int8.onnx");
        File.WriteAllBytes(candidate, Quantize("hey_jarvis", Entropy).Bytes);

        var report = ModelComparer.Compare(WakeWordSpeechFixture.Model("hey_jarvis"), candidate, speech.HeldOutClassifier,
            new VerificationGates { MinAgreement = 0.999, MinPositivesKept = 0.98, MaxP99AbsDiff = 0.05 });

        var score = Assert.Single(report.Outputs);
        Assert.True(score.ReferencePositives >= 50, $"the held-out speech should hold wake words: {score.ReferencePositives} positives of {report.Inputs}");
        Assert.True(report.Passed, string.Join("; ", report.Gates.Select(g => $"{g.Gate} {g.Measured} (limit {g.Limit})")));
    }

    [Fact]
    public void TheSameModelInputsAndOptions_GiveTheSameBytes()
    {
        Assert.Equal(Quantize("hey_jarvis", Entropy).Bytes, Quantize("hey_jarvis", Entropy).Bytes);
    }

    [Fact]
    public void TheReport_GivesEachActivationsRangeAndParameters_AndWhatStayedFloat()
    {
        var report = Quantize("hey_jarvis", new QuantizationOptions { PerChannel = true, Exclude = ["Gemm_27"] }).Report;

        Assert.Equal(5, report.Quantized["Gemm"]);
        Assert.Contains(report.Skipped, s => s is { Node: "Gemm_27", Reason: "excluded" });
        Assert.Contains(report.Skipped, s => s is { Node: "Mul_11", Reason: "an input is a constant" });
        var input = report.Tensors.Single(t => t.Name == "x.1");
        Assert.Equal(input.Min, input.RangeMin);
        Assert.Equal(QuantizationMath.Parameters(input.RangeMin, input.RangeMax, 0, 255, symmetric: false), new QuantizationParameters(input.Scale, input.ZeroPoint));
        Assert.Contains(report.Tensors, t => t.SameAs == "x.1");
    }

    [Fact]
    public async Task Edgefleet_Quantizes_WritingTheModelAndItsReport()
    {
        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "quantize", WakeWordSpeechFixture.Model("alexa"),
            "--calibration", speech.CalibrationClassifier, "--out", _work, "--per-channel", "--method", "percentile");

        Assert.True(code == 0, output);
        Assert.Contains("Gemm ×3", output, StringComparison.Ordinal);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_work, "report.json")))!;
        var written = await File.ReadAllBytesAsync(Path.Combine(_work, "model.onnx"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(written)), report["output_sha256"]!.GetValue<string>());
        Assert.Equal("percentile", report["method"]!.GetValue<string>());
        Assert.True(report["per_channel"]!.GetValue<bool>());
        using var session = new InferenceSession(written);
        Assert.Equal([1, 1], session.OutputMetadata.Single().Value.Dimensions);
    }

    [Fact]
    public async Task WhatItCannotUse_IsRefusedByName()
    {
        var model = WakeWordSpeechFixture.Model("alexa");
        var notOnnx = Path.Combine(_work, "notes.onnx");
        await File.WriteAllTextAsync(notOnnx, "not a model");
        var wrong = Directory.CreateDirectory(Path.Combine(_work, "wrong")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(wrong, "a.npy"), NpyFile.Write(TensorDataType.Fp32, [1, 3], new byte[12]));

        async Task<string> Refused(params string[] args)
        {
            var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(), ["models", "quantize", .. args, "--out", _work]);
            Assert.True(code == 2, output);
            return output;
        }

        Assert.Contains("is not an ONNX model", await Refused(notOnnx, "--calibration", wrong), StringComparison.Ordinal);
        Assert.Contains("does not exist", await Refused(model, "--calibration", Path.Combine(_work, "none")), StringComparison.Ordinal);
        Assert.Contains("a.npy", await Refused(model, "--calibration", wrong), StringComparison.Ordinal);
        Assert.Contains("--exclude names no node of the model: Gemm_99", await Refused(model, "--calibration", speech.CalibrationClassifier, "--exclude", "Gemm_99"), StringComparison.Ordinal);
        Assert.Contains("--method 'kl' is not one of minmax, entropy, percentile", await Refused(model, "--calibration", speech.CalibrationClassifier, "--method", "kl"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "model.onnx")));
    }

    /// <summary>The nodes of every graph of the model as ONNX Runtime runs it, all optimizations applied.</summary>
    private List<NodeProto> OptimizedByOnnxRuntime(byte[] model)
    {
        var input = Path.Combine(_work, $"{Guid.NewGuid():N}.onnx");
        var optimized = Path.Combine(_work, $"{Guid.NewGuid():N}.optimized.onnx");
        File.WriteAllBytes(input, model);
        using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR })
        using (new InferenceSession(input, options))
        {
        }

        return [.. AllGraphs(ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph).SelectMany(g => g.Node)];
    }

    private QuantizedModel Quantize(string name, QuantizationOptions options) =>
        ModelQuantizer.Quantize(WakeWordSpeechFixture.Model(name), name == "embedding" ? speech.CalibrationEmbedding : speech.CalibrationClassifier, options);

    private static IEnumerable<GraphProto> AllGraphs(GraphProto graph) =>
        [graph, .. graph.Node.SelectMany(n => n.Attribute).Where(a => a.G is not null).SelectMany(a => AllGraphs(a.G))];

    private static bool WeightIsFloat(ModelProto model, NodeProto node) =>
        AllGraphs(model.Graph).SelectMany(g => g.Initializer).Any(i => i.Name == node.Input[1] && i.DataType == (int)TensorProto.Types.DataType.Float);
}
