using System.Text.Json.Nodes;
using EdgeInference.Optimization.Import;
using EdgeInference.Optimization.Tflite;
using EdgeInference.Testing;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Tests.Optimization;

/// <summary>TFLite → ONNX on openWakeWord's classifiers, checked by ONNX Runtime against the ONNX twins the same package ships.</summary>
public sealed class TfliteImportTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public TfliteImportTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("alexa")]
    [InlineData("weather")]
    [InlineData("timer")]
    [InlineData("hey_mycroft")]
    public void AnImportedClassifier_ScoresLikeItsShippedOnnxTwin_On200Inputs(string name)
    {
        var (onnx, report) = TfliteImporter.Import(TfliteModel.Load(Path.Combine(TestPaths.TfliteModels, name + ".tflite")), name);
        using var imported = new InferenceSession(onnx.ToByteArray());
        using var twin = new InferenceSession(Path.Combine(TestPaths.SampleModels, name, "1", "model.onnx"));
        var shape = imported.InputMetadata.Single().Value.Dimensions.Select(d => (long)d).ToArray();
        Assert.All(shape, d => Assert.True(d > 0));

        var random = new Random(20261130);
        double worst = 0, spread = 0;
        float[]? first = null;
        for (var run = 0; run < 200; run++)
        {
            var input = Enumerable.Range(0, (int)shape.Aggregate((a, b) => a * b)).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
            var ours = Run(imported, input, shape);
            var theirs = Run(twin, input, shape);
            Assert.Equal(theirs.Length, ours.Length);
            worst = Math.Max(worst, ours.Zip(theirs).Max(p => Math.Abs(p.First - p.Second)));
            first ??= theirs;
            spread = Math.Max(spread, theirs.Zip(first).Max(p => Math.Abs(p.First - p.Second)));
        }

        _output.WriteLine($"{name}: max |Δ| {worst:g3} over 200 inputs; the twin's scores spread {spread:g3}");
        Assert.True(worst <= 1e-4, $"{name}: max |Δ| {worst:g3} over 200 inputs");
        Assert.True(spread > 1e-3, $"{name}: the twin scored every input alike ({spread:g3}), so agreeing proves nothing");
        Assert.Equal(report.Converted.Values.Sum(), TfliteModel.Load(Path.Combine(TestPaths.TfliteModels, name + ".tflite")).Subgraphs[0].Operators.Count);
    }

    /// <summary>
    /// Why hey_rhasspy is not compared with its twin: the package's hey_rhasspy.onnx is another network than its
    /// hey_rhasspy.tflite (32 hidden units against 64), so no conversion could agree with it.
    /// </summary>
    [Fact]
    public void HeyRhasspysShippedTwins_AreDifferentNetworks_SoItsImportCannotBeComparedWithTheOnnxOne()
    {
        var tflite = TfliteModel.Load(Path.Combine(TestPaths.TfliteModels, "hey_rhasspy.tflite")).Subgraphs[0];
        var onnx = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(TestPaths.SampleModels, "hey_rhasspy", "1", "model.onnx")));

        Assert.Equal([64, 1536], tflite.Tensors.Single(t => t.Name == "MatMul").Shape);
        Assert.Equal([32L, 1536L], onnx.Graph.Initializer.Single(i => i.Name == "1.weight").Dims);
    }

    [Fact]
    public void ImportingTheSameModelTwice_WritesTheSameBytes()
    {
        var model = TfliteModel.Load(Path.Combine(TestPaths.TfliteModels, "hey_mycroft.tflite"));

        Assert.Equal(TfliteImporter.Import(model, "m").Model.ToByteArray(), TfliteImporter.Import(model, "m").Model.ToByteArray());
    }

    [Theory]
    [InlineData("embedding", "operator 0 (PAD, output 'model/zero_padding2d")]
    [InlineData("melspectrogram", "is not one the importer converts")]
    [InlineData("hey_jarvis", "the model has 3 subgraphs (IF/WHILE bodies)")]
    public void AModelWithWhatTheImporterDoesNotConvert_IsRefused_NamingTheOperatorAndWhere(string name, string message)
    {
        var refused = Assert.Throws<InvalidDataException>(() => TfliteImporter.Import(TfliteModel.Load(Path.Combine(TestPaths.TfliteModels, name + ".tflite")), name));

        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edgefleet_Imports_WritingTheModelAndAReportWithBothHashes()
    {
        var folder = TestPaths.NewTempDirectory("import");
        var (code, output) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "import", Path.Combine(TestPaths.TfliteModels, "timer.tflite"), "--out", folder);

        Assert.True(code == 0, output);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "report.json")))!;
        var written = await File.ReadAllBytesAsync(Path.Combine(folder, "model.onnx"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(written)), report["output_sha256"]!.GetValue<string>());
        Assert.Equal(64, report["source_sha256"]!.GetValue<string>().Length);
        Assert.Equal(3, report["converted"]!["FULLY_CONNECTED"]!.GetValue<int>());
        using var session = new InferenceSession(written);
        Assert.Equal([1, 7], session.OutputMetadata.Single().Value.Dimensions);

        var (refusedCode, refused) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "import", Path.Combine(TestPaths.TfliteModels, "embedding.tflite"), "--out", folder);
        Assert.Equal(2, refusedCode);
        Assert.Contains("(PAD, output", refused, StringComparison.Ordinal);
    }

    private static float[] Run(InferenceSession session, float[] input, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [session.InputMetadata.Keys.Single()], [value], [session.OutputMetadata.Keys.Single()]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
