using System.CommandLine;
using System.Text.Json;
using EdgeInference.Optimization.Inspection;
using EdgeInference.Optimization.Quantization;
using EdgeInference.Storage;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet models quantize</c>: an ONNX model to 8 bits, calibrated on sample inputs.</summary>
internal static class QuantizeCommand
{
    public static Command Build(CliContext cli)
    {
        var file = new Argument<string>("MODEL") { Description = "The float model (ONNX)" };
        var calibration = new Option<string?>("--calibration") { Description = "A folder of .npy inputs (or of sample folders of <input name>.npy) to measure activations on (static mode)" };
        var output = new Option<string>("--out") { Description = "The folder to write model.onnx and report.json to", Required = true };
        var mode = new Option<string>("--mode") { Description = "static (QDQ, ranges from calibration) or dynamic (Gemm and MatMul, ranges measured on each run)", DefaultValueFactory = _ => "static" };
        var method = new Option<string>("--method") { Description = "How activation ranges are chosen: minmax, entropy or percentile", DefaultValueFactory = _ => "minmax" };
        var perChannel = new Option<bool>("--per-channel") { Description = "One weight scale per output channel of Conv, Gemm and MatMul" };
        var activations = new Option<string>("--activations") { Description = "Activation type: u8 or s8 (weights are always symmetric s8)", DefaultValueFactory = _ => "u8" };
        var exclude = new Option<string[]>("--exclude") { Description = "Nodes, by name, to leave in float", AllowMultipleArgumentsPerToken = true };
        var command = new Command("quantize", "Quantize an ONNX model to 8 bits as ONNX Runtime's tool does (QDQ, int8 weights, calibrated activations, int32 biases); writes model.onnx and report.json");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { calibration, output, mode, method, perChannel, activations, exclude })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => cli.RunAsync(() =>
        {
            var options = new QuantizationOptions
            {
                Mode = Choice<QuantizationMode>(parse.GetValue(mode)!, "--mode"),
                Method = Choice<CalibrationMethod>(parse.GetValue(method)!, "--method"),
                PerChannel = parse.GetValue(perChannel),
                Activations = Choice<QuantizedType>(parse.GetValue(activations)!, "--activations"),
                Exclude = parse.GetValue(exclude) ?? [],
            };
            var quantized = ModelQuantizer.Quantize(ModelsCommands.Existing(parse.GetValue(file)!), parse.GetValue(calibration), options);
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(folder);
            var target = Path.Combine(folder, "model.onnx");
            DurableFiles.WriteAtomically(target, quantized.Bytes);
            var report = quantized.Report;
            report.Output = target;
            DurableFiles.WriteAtomically(Path.Combine(folder, "report.json"), JsonSerializer.SerializeToUtf8Bytes(report, OptimizationJsonContext.Default.QuantizationReport));
            cli.Print(parse, JsonSerializer.SerializeToNode(report, OptimizationJsonContext.Default.QuantizationReport), () =>
            {
                cli.Console.MarkupLine(Markup.Escape(
                    $"Quantized {report.Model} into {target}: {report.QuantizedBytes:N0} bytes, {report.SizeRatio:0.###}× of {report.FloatBytes:N0}; " +
                    $"{report.Quantized.Values.Sum()} nodes in 8 bits ({string.Join(", ", report.Quantized.Select(o => $"{o.Key} ×{o.Value}"))}), " +
                    (report.Method is null ? "activations quantized on each run" : $"{report.Tensors.Count} activations calibrated on {report.CalibrationInputs} inputs ({report.Method})")));
                foreach (var skipped in report.Skipped)
                {
                    cli.Console.MarkupLine(Markup.Escape($"  float: {skipped.Node} ({skipped.OpType}): {skipped.Reason}"));
                }
            });
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>An enum value by its name, any case; anything else is refused with the choices.</summary>
    private static T Choice<T>(string text, string option)
        where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(text, out _)
            ? value
            : throw new ArgumentException($"{option} '{text}' is not one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
}
