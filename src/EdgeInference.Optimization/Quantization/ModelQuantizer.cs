using System.Security.Cryptography;
using EdgeInference.Optimization.Verification;
using Google.Protobuf;
using Onnx;

namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// Quantizes an ONNX model to 8 bits, following ONNX Runtime's quantization tool: QDQ format, its scale and zero-point
/// formulas, symmetric int8 weights (per channel on request), asymmetric activations calibrated on sample inputs, int32
/// biases. Subgraphs (<c>If</c> branches) are quantized too. The same model, inputs and options give the same bytes.
/// </summary>
public static class ModelQuantizer
{
    public static QuantizedModel Quantize(string modelPath, string calibrationFolder, QuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(modelPath))
        {
            throw new IOException($"the model {modelPath} does not exist");
        }

        var bytes = File.ReadAllBytes(modelPath);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{modelPath} is not an ONNX model: {ex.Message}", ex);
        }

        if (model.Graph is null)
        {
            throw new InvalidDataException($"{modelPath} is not an ONNX model: it has no graph");
        }

        if (options.Mode != QuantizationMode.Static)
        {
            throw new ArgumentException("dynamic quantization is not built yet; use --mode static");
        }

        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < 10 || (options.PerChannel && opset < 13))
        {
            throw new InvalidDataException(
                $"{modelPath} uses opset {opset}: QuantizeLinear needs 10, and per-channel weights 13; convert the model to a newer opset first");
        }

        var rewriter = new QdqRewriter(model, options, new Dictionary<string, TensorRange>());
        var initializers = model.Graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = model.Graph.Input.Select(i => i.Name).Where(name => !initializers.Contains(name)).ToArray();
        var samples = SampleFolder.Read(calibrationFolder, inputs);
        var ranges = Calibrator.Measure(model, rewriter.Wanted(), samples, options.Method, options.Percentile);

        var report = new QuantizationReport
        {
            Model = Path.GetFileName(modelPath), ModelSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Mode = "static",
            Method = options.Method.ToString().ToLowerInvariant(), PerChannel = options.PerChannel, Activations = options.Activations.ToString().ToLowerInvariant(),
            CalibrationInputs = samples.Count, FloatBytes = bytes.Length,
        };
        new QdqRewriter(model, options, ranges).Rewrite(report);
        var quantized = model.ToByteArray();
        report.QuantizedBytes = quantized.Length;
        report.SizeRatio = Math.Round((double)quantized.Length / bytes.Length, 4);
        report.OutputSha256 = Convert.ToHexStringLower(SHA256.HashData(quantized));
        return new QuantizedModel(quantized, report);
    }
}
