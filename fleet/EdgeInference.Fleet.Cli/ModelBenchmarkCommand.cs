using System.CommandLine;
using System.Globalization;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary>
/// <c>edgefleet models benchmark NAME@VERSION --target SELECTOR</c>: each selected device times the package beside
/// what it serves, and the figures come back per device.
/// </summary>
internal static class ModelBenchmarkCommand
{
    public static Command Build(CliContext cli)
    {
        var package = new Argument<string>("NAME@VERSION") { Description = "A pushed package" };
        var target = new Option<string>("--target") { Description = "Tag selector of the devices, key=value,… (empty: every enrolled device)", DefaultValueFactory = _ => "" };
        var iterations = new Option<int>("--iterations") { Description = "Timed runs on each device", DefaultValueFactory = _ => 100 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first", DefaultValueFactory = _ => 10 };
        var wait = new Option<string>("--wait") { Description = "How long to wait for every device's answer, e.g. 2m", DefaultValueFactory = _ => "5m" };
        var command = new Command("benchmark", "Time a package on devices without installing it: p50/p95/p99, load time, memory growth and the execution provider, per device");
        command.Arguments.Add(package);
        foreach (var option in new Option[] { target, iterations, warmup, wait })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var (name, version) = ModelsCommands.NameAndVersion(parse.GetValue(package)!);
            using var client = cli.Client(parse);
            var request = new BenchmarkRequest { Target = parse.GetValue(target)!, Iterations = parse.GetValue(iterations), Warmup = parse.GetValue(warmup) };
            var mine = await client.BenchmarkAsync(name, version, request, ModelsCommands.Duration(parse.GetValue(wait)!), cancellationToken).ConfigureAwait(false);

            cli.Print(parse, mine, Api.FleetApiJsonContext.Default.ListBenchmarkView, () =>
            {
                Table(cli, mine);
                cli.Console.MarkupLine(Markup.Escape($"{name} {version}: {mine.Count(b => b.State == CommandState.Succeeded)} of {mine.Count} devices measured it"));
            });
            return mine.All(b => b.State == CommandState.Succeeded) ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    /// <summary>One row per benchmark: the device, its state (and why, when it has no figures), and its figures.</summary>
    public static void Table(CliContext cli, IEnumerable<BenchmarkView> results)
    {
        var table = new Table().AddColumns("Device", "State", "Provider", "p50 ms", "p95 ms", "p99 ms", "Load ms", "Memory", "Inputs");
        foreach (var b in results)
        {
            var r = b.Result;
            table.AddRow(
                Markup.Escape(b.DeviceId), Markup.Escape(b.State.WireName() + (r is null && b.Message is { } m ? $": {m}" : "")), Markup.Escape(r?.Provider ?? ""),
                Number(r?.P50Ms), Number(r?.P95Ms), Number(r?.P99Ms), Number(r?.LoadMs),
                r is null ? "" : string.Create(CultureInfo.InvariantCulture, $"+{r.RssIncreaseBytes / 1048576.0:0.0} MiB"), Markup.Escape(r?.Inputs ?? ""));
        }

        cli.Console.Write(table);
    }

    private static string Number(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "";
}
