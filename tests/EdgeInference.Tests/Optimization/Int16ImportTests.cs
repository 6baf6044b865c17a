using System.Globalization;
using EdgeInference.Optimization.Import;
using EdgeInference.Optimization.Tflite;
using EdgeInference.Testing;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace EdgeInference.Tests.Optimization;

/// <summary>
/// 16-bit activations with 8-bit weights: tflite-micro's seanet per-operator tests (int16 inputs, int8 per-channel
/// filters, int64 biases, and the outputs TFLite computed for those inputs), imported at opset 21 and run by ONNX
/// Runtime, answer within one step of the int16 grid.
/// </summary>
public sealed class Int16ImportTests(ITestOutputHelper output)
{
    [TfliteMicroTheory]
    [InlineData("add")]
    [InlineData("conv")]
    [InlineData("leaky_relu")]
    [InlineData("pad")]
    [InlineData("quantize")]
    [InlineData("strided_slice")]
    [InlineData("sub")]
    [InlineData("transpose_conv")]
    public void EverySeanetTestOfAnOperator_AnswersItsGoldenOutput_WithinOneStep(string op)
    {
        var models = Directory.GetFiles(Path.Combine(TestPaths.TfliteMicro, "seanet", op), "*.tflite").Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(models);
        var worst = new List<string>();
        foreach (var file in models)
        {
            var stem = Path.Combine(Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file));
            var (onnx, report) = TfliteImporter.Import(TfliteModel.Load(file), Path.GetFileName(stem));
            Assert.Equal(TfliteImporter.Int16Opset, report.Opset);
            using var session = new InferenceSession(onnx.ToByteArray());
            var inputs = session.InputMetadata.Select((input, i) => Value(Csv($"{stem}_input{i}_*.csv"), input.Value)).ToArray();
            using var options = new RunOptions();
            using var outputs = session.Run(options, [.. session.InputMetadata.Keys], inputs, [.. session.OutputMetadata.Keys]);
            foreach (var input in inputs)
            {
                input.Dispose();
            }

            var golden = Csv($"{stem}_golden_*.csv");
            var actual = outputs[0].GetTensorTypeAndShape().ElementDataType == TensorElementType.Int16
                ? outputs[0].GetTensorDataAsSpan<short>().ToArray().Select(v => (long)v).ToArray()
                : outputs[0].GetTensorDataAsSpan<int>().ToArray().Select(v => (long)v).ToArray();
            Assert.Equal(golden.Length, actual.Length);
            var diff = golden.Zip(actual, (g, a) => Math.Abs(g - a)).Max();
            worst.Add($"{Path.GetFileName(file)}: {diff}");
            Assert.True(diff <= 1, $"{file}: {diff} steps off its golden output ({string.Join("; ", worst)})");
        }

        output.WriteLine($"{op}: {models.Length} models, steps off golden: {string.Join("; ", worst)}");
    }

    private static long[] Csv(string pattern)
    {
        var file = Directory.GetFiles(Path.GetDirectoryName(pattern)!, Path.GetFileName(pattern)).Single();
        return [.. File.ReadAllText(file).Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
    }

    private static OrtValue Value(long[] data, NodeMetadata input)
    {
        var shape = input.Dimensions.Select(d => (long)d).ToArray();
        return input.ElementDataType switch
        {
            TensorElementType.Int16 => OrtValue.CreateTensorValueFromMemory(data.Select(v => (short)v).ToArray(), shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(data.Select(v => (int)v).ToArray(), shape),
            var other => throw new InvalidOperationException($"an input of {other}"),
        };
    }
}
