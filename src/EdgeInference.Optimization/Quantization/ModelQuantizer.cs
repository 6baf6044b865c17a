using System.Security.Cryptography;
using Google.Protobuf;
using Onnx;

namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// Quantizes an ONNX model to 8 bits, following ONNX Runtime's quantization tool: QDQ format, its scale and zero-point
/// formulas, symmetric int8 weights (per channel on request), asymmetric activations calibrated on sample inputs, int32
/// biases; or dynamic mode for Gemm and MatMul, with activations quantized on each run. Subgraphs (<c>If</c> branches)
/// are quantized too. The same model, inputs and options give the same bytes.
/// </summary>
public static class ModelQuantizer
{
    /// <param name="calibrationFolder">Inputs to calibrate activations on; static mode needs them, dynamic mode does not read them.</param>
    public static QuantizedModel Quantize(string modelPath, string? calibrationFolder, QuantizationOptions options) =>
        Quantize(modelPath, calibrationFolder is null ? null : new CalibrationSet(calibrationFolder), options);

    /// <param name="calibration">The model's calibration inputs, and the ranges measured on them so far.</param>
    internal static QuantizedModel Quantize(string modelPath, CalibrationSet? calibration, QuantizationOptions options)
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

        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        var dynamic = options.Mode == QuantizationMode.Dynamic;
        if (dynamic ? opset < 11 : opset < 10 || (options.PerChannel && opset < 13))
        {
            throw new InvalidDataException(dynamic
                ? $"{modelPath} uses opset {opset}: DynamicQuantizeLinear needs 11; convert the model to a newer opset first"
                : $"{modelPath} uses opset {opset}: QuantizeLinear needs 10, and per-channel weights 13; convert the model to a newer opset first");
        }

        var report = new QuantizationReport
        {
            Model = Path.GetFileName(modelPath), ModelSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Mode = dynamic ? "dynamic" : "static",
            Method = dynamic ? null : options.Method.ToString().ToLowerInvariant(), PerChannel = options.PerChannel,
            Activations = (dynamic ? QuantizedType.U8 : options.Activations).ToString().ToLowerInvariant(), FloatBytes = bytes.Length,
        };
        var rewriter = new QuantizationRewriter(model, options);
        var ranges = new Dictionary<string, TensorRange>();
        if (!dynamic)
        {
            var initializers = model.Graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            var inputs = model.Graph.Input.Select(i => i.Name).Where(name => !initializers.Contains(name)).ToArray();
            if (calibration is null)
            {
                throw new ArgumentException("static quantization needs calibration inputs (--calibration DIR)");
            }

            ranges = calibration.Ranges(model, inputs, rewriter.Wanted(), options.Method, options.Percentile);
            report.CalibrationInputs = calibration.Count;
        }

        rewriter.Rewrite(report, ranges);
        var quantized = model.ToByteArray();
        report.QuantizedBytes = quantized.Length;
        report.SizeRatio = Math.Round((double)quantized.Length / bytes.Length, 4);
        report.OutputSha256 = Convert.ToHexStringLower(SHA256.HashData(quantized));
        return new QuantizedModel(quantized, report);
    }
}
