using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeInference.Contracts;
using EdgeInference.Optimization.Inspection;
using EdgeInference.Optimization.Optimize;
using EdgeInference.Packaging;
using EdgeInference.Storage;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary>
/// <c>edgefleet models optimize</c>: import if needed, try the quantization variants, keep the smallest that passes
/// the gates without being slower than float, and write a package folder for <c>models push</c>.
/// </summary>
internal static class OptimizeCommand
{
    public static Command Build(CliContext cli)
    {
        var file = new Argument<string>("MODEL") { Description = "The float model: ONNX, or TFLite (imported first)" };
        var calibration = new Option<string>("--calibration") { Description = "A folder of .npy inputs to calibrate activations on", Required = true };
        var heldOut = new Option<string>("--heldout") { Description = "A folder of other .npy inputs, to judge each variant on", Required = true };
        var output = new Option<string>("--out") { Description = "The package folder to write: model.onnx, golden.json, profile.json, report.json", Required = true };
        var exclude = new Option<string[]>("--exclude") { Description = "Nodes, by name, every variant leaves in float", AllowMultipleArgumentsPerToken = true };
        var gateOptions = new GateOptions();
        var command = new Command("optimize", "Quantize every way, keep the smallest variant that passes the accuracy gates on held-out inputs and is not slower than float, and write a package folder (or refuse with the numbers, exit 7)");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { calibration, heldOut, output, exclude })
        {
            command.Options.Add(option);
        }

        gateOptions.AddTo(command);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var options = new OptimizationOptions { Gates = gateOptions.Read(parse), Exclude = parse.GetValue(exclude) ?? [] };
            var package = await ModelOptimizer.OptimizeAsync(ModelsCommands.Existing(parse.GetValue(file)!), parse.GetValue(calibration)!, parse.GetValue(heldOut)!, options, cancellationToken).ConfigureAwait(false);
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(folder);
            if (package is { Model: { } model, Golden: { } golden, Profile: { } profile })
            {
                DurableFiles.WriteAtomically(Path.Combine(folder, PackageRoles.FileNames[PackageRoles.Model]), model);
                DurableFiles.WriteAtomically(Path.Combine(folder, PackageRoles.FileNames[PackageRoles.Golden]), JsonSerializer.SerializeToUtf8Bytes(golden, PackageJsonContext.Default.GoldenSet));
                DurableFiles.WriteAtomically(Path.Combine(folder, PackageRoles.FileNames[PackageRoles.Profile]), JsonSerializer.SerializeToUtf8Bytes(profile, ContractJsonContext.Default.DriftProfile));
            }

            var report = package.Report;
            DurableFiles.WriteAtomically(Path.Combine(folder, "report.json"), JsonSerializer.SerializeToUtf8Bytes(report, OptimizationJsonContext.Default.OptimizationReport));
            cli.Print(parse, JsonSerializer.SerializeToNode(report, OptimizationJsonContext.Default.OptimizationReport), () => Describe(cli, report, folder));
            return report.Chosen is null ? ExitCodes.GateFailed : ExitCodes.Ok;
        }));
        return command;
    }

    private static void Describe(CliContext cli, OptimizationReport report, string folder)
    {
        var table = new Table().AddColumns("Variant", "Size", "Speed", "Verdict");
        table.AddRow("float", $"{report.FloatBytes:N0} B", Invariant($"{report.FloatLatencyMicroseconds:0.#} µs"), "reference");
        foreach (var variant in report.Variants)
        {
            table.AddRow(
                Markup.Escape(variant.Name), Invariant($"{variant.SizeRatio:0.###}×"), Invariant($"{variant.Speedup:0.##}× ({variant.LatencyMicroseconds:0.#} µs)"),
                variant.Passed ? (variant.Name == report.Chosen ? "[green]kept[/]" : "passes") : $"[red]fails[/]: {Markup.Escape(variant.Failure ?? "")}");
        }

        cli.Console.Write(table);
        cli.Console.MarkupLine(Markup.Escape(report.Chosen is null
            ? $"No variant passes; nothing written but {Path.Combine(folder, "report.json")}"
            : $"Kept {report.Chosen}: {folder} holds model.onnx, golden.json (tolerance {report.GoldenTolerance?.ToString("G4", CultureInfo.InvariantCulture)}), profile.json (drift reference from the calibration inputs) and report.json, ready for models push"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
