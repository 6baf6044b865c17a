using System.Text.Json.Nodes;
using EdgeInference.Optimization.Inspection;
using EdgeInference.Optimization.Tflite;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Optimization;

/// <summary>Reading models for the pipeline: openWakeWord's TFLite files and their ONNX twins, a TFLite model built here field by field, and damaged files.</summary>
public sealed class ModelInspectionTests
{
    /// <summary>The operators the issue says the eight openWakeWord TFLite models use, which the importer must cover.</summary>
    private static readonly string[] WakeWordOperators =
    [
        "CONV_2D", "PAD", "LEAKY_RELU", "MAXIMUM", "MINIMUM", "MAX_POOL_2D", "EXPAND_DIMS", "TRANSPOSE", "SQUEEZE", "MUL", "ADD", "SUB", "BATCH_MATMUL",
        "LOG", "REDUCE_MAX", "RESHAPE", "FULLY_CONNECTED", "LOGISTIC", "SOFTMAX", "MEAN", "RSQRT", "GREATER_EQUAL", "IF",
    ];

    public static TheoryData<string> WakeWordModels() => new(Directory.GetFiles(TestPaths.TfliteModels, "*.tflite").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!);

    [Fact]
    public void TheEightOpenWakeWordTfliteModels_TogetherUseExactlyTheOperatorsTheImportMustCover()
    {
        var files = Directory.GetFiles(TestPaths.TfliteModels, "*.tflite");
        Assert.Equal(8, files.Length);

        var used = files.SelectMany(f => ModelInspector.Inspect(f).Operators.Keys).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(WakeWordOperators.Order(StringComparer.Ordinal), used.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(WakeWordModels))]
    public void ATfliteModel_ShowsTheSameInputsAndOutputsAsItsOnnxTwin_BothFloat(string name)
    {
        var tflite = ModelInspector.Inspect(Path.Combine(TestPaths.TfliteModels, name + ".tflite"));
        var onnx = ModelInspector.Inspect(Path.Combine(TestPaths.SampleModels, name, "1", "model.onnx"));

        Assert.Equal(("tflite", 3L), (tflite.Format, tflite.FormatVersion));
        Assert.Equal("onnx", onnx.Format);
        Assert.Equal(onnx.Inputs.Count, tflite.Inputs.Count);
        Assert.Equal(onnx.Outputs.Count, tflite.Outputs.Count);
        foreach (var (a, b) in onnx.Inputs.Concat(onnx.Outputs).Zip(tflite.Inputs.Concat(tflite.Outputs)))
        {
            Assert.Equal(("FLOAT", "FLOAT32"), (a.Type, b.Type));
            Assert.Equal(a.Shape.Count, b.Shape.Count);
            // A dimension dynamic in one (-1) may be fixed in the other; where both are fixed they agree.
            Assert.All(a.Shape.Zip(b.Shape), d => Assert.True(d.First < 0 || d.Second < 0 || d.First == d.Second, $"{name}: [{string.Join(",", a.Shape)}] against [{string.Join(",", b.Shape)}]"));
        }

        Assert.False(tflite.Quantized, tflite.QuantizedBecause);
        Assert.False(onnx.Quantized, onnx.QuantizedBecause);
        Assert.Equal(64, tflite.Sha256.Length);
    }

    [Fact]
    public void HeyJarvis_KeepsPartOfItsGraphInsideIfBranches_InBothFormats()
    {
        var tflite = ModelInspector.Inspect(Path.Combine(TestPaths.TfliteModels, "hey_jarvis.tflite"));
        var onnx = ModelInspector.Inspect(Path.Combine(TestPaths.SampleModels, "hey_jarvis", "1", "model.onnx"));

        Assert.True(tflite.Operators.ContainsKey("IF") && tflite.Subgraphs >= 3, $"{tflite.Subgraphs} subgraphs, operators {string.Join(",", tflite.Operators.Keys)}");
        Assert.True(onnx.Operators.ContainsKey("If") && onnx.Subgraphs >= 3, $"{onnx.Subgraphs} graphs, operators {string.Join(",", onnx.Operators.Keys)}");
        Assert.Contains("ai.onnx", onnx.Opsets!.Keys);
    }

    [Fact]
    public void ATfliteModelBuiltFieldByField_IsReadBack_WithItsQuantizationDynamicDimensionsAndConstantData()
    {
        var model = TfliteModel.Parse(TfliteTestModels.Quantized());

        var graph = Assert.Single(model.Subgraphs);
        Assert.Equal("main", graph.Name);
        var input = graph.Tensors[graph.Inputs[0]];
        Assert.Equal(("input", TfliteTensorType.Int8), (input.Name, input.Type));
        Assert.Equal([1, 4], input.Shape);
        Assert.Equal([-1, 4], input.ShapeSignature!);
        Assert.Equal([0.5f], input.Quantization!.Scale);
        Assert.Equal([-3L], input.Quantization.ZeroPoint);
        var weights = graph.Tensors[1];
        Assert.True(weights.Quantization!.PerChannel);
        Assert.Equal(1, weights.Quantization.QuantizedDimension);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, model.Buffer(weights.Buffer).ToArray());
        var op = Assert.Single(graph.Operators);
        Assert.Equal(("FULLY_CONNECTED", 1), (op.Name, op.Version));
        Assert.Equal([0, 1], op.Inputs);
        Assert.True(ModelInspector.Inspect(WriteTemp(TfliteTestModels.Quantized())).Quantized);
    }

    [Fact]
    public void ADamagedTfliteFile_IsAlwaysAnInvalidDataException_NamingWhatWasBeingRead_NeverAnotherFailure()
    {
        var good = TfliteTestModels.Quantized();
        var random = new Random(7);
        var failures = new List<string>();
        void Try(byte[] bytes, string how)
        {
            try
            {
                TfliteModel.Parse(bytes);
            }
            catch (InvalidDataException ex) when (ex.Message.Length > 0)
            {
            }
            catch (Exception ex)
            {
                failures.Add($"{how}: {ex.GetType().Name} {ex.Message}");
            }
        }

        for (var length = 0; length < good.Length; length++)
        {
            Try(good[..length], $"cut at {length}");
        }

        for (var i = 0; i < 5000; i++)
        {
            var bad = (byte[])good.Clone();
            var at = random.Next(8, bad.Length);
            bad[at] = (byte)random.Next(256);
            Try(bad, $"byte {at} set to {bad[at]}");
        }

        Assert.Empty(failures);
        var truncated = Assert.Throws<InvalidDataException>(() => TfliteModel.Parse(File.ReadAllBytes(Path.Combine(TestPaths.TfliteModels, "hey_jarvis.tflite"))[..5000]));
        Assert.Matches("outside the file|past the end of the file", truncated.Message);
    }

    [Fact]
    public void AFileThatIsNeitherFormat_IsRefusedSayingSo()
    {
        var text = WriteTemp("not a model at all, just words"u8.ToArray());

        var refused = Assert.Throws<InvalidDataException>(() => ModelInspector.Inspect(text));

        Assert.StartsWith("neither a TFLite model (no TFL3 identifier) nor an ONNX model", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edgefleet_InspectsAModel_AsATable_OrAsJson_AndNamesAFileItCannotRead()
    {
        var path = Path.Combine(TestPaths.TfliteModels, "melspectrogram.tflite");
        var (code, table) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "inspect", path);
        Assert.True(code == 0, table);
        Assert.Contains("TFLite, schema 3", table, StringComparison.Ordinal);

        var (jsonCode, json) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "inspect", path, "--json");
        Assert.Equal(0, jsonCode);
        var report = JsonNode.Parse(json)!;
        Assert.Equal("tflite", report["format"]!.GetValue<string>());
        Assert.Equal(ModelInspector.Inspect(path).Operators.Count, report["operators"]!.AsObject().Count);

        var (badCode, bad) = await CliRunner.RunAsync(new Dictionary<string, string>(), "models", "inspect", WriteTemp([1, 2, 3]));
        Assert.Equal(2, badCode);
        Assert.Contains("neither a TFLite model", bad, StringComparison.Ordinal);
    }

    private static string WriteTemp(byte[] bytes)
    {
        var path = Path.Combine(TestPaths.NewTempDirectory("inspect"), "model.bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
