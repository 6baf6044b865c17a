using System.CommandLine;
using System.Globalization;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet rollouts start|list|status|pause|resume|promote|abort|rollback</c>.</summary>
internal static class RolloutsCommands
{
    private static readonly string[] Actions = ["pause", "resume", "promote", "abort", "rollback"];
    private static readonly FleetApiJsonContext Json = FleetApiJsonContext.Default;

    public static Command Build(CliContext cli)
    {
        var rollouts = new Command("rollouts", "Staged rollouts");
        rollouts.Subcommands.Add(Start(cli));
        rollouts.Subcommands.Add(List(cli));
        rollouts.Subcommands.Add(Status(cli));
        foreach (var action in Actions)
        {
            rollouts.Subcommands.Add(Act(cli, action));
        }

        return rollouts;
    }

    private static Command Start(CliContext cli)
    {
        var model = new Option<string>("--model") { Description = "NAME@VERSION of a pushed package", Required = true };
        var target = new Option<string?>("--target") { Description = "Tag selector key=value[,key=value] (default: every device)" };
        var stages = new Option<string?>("--stages") { Description = "Stages as counts or percentages (default 1,10%,50%,100%)" };
        var soak = new Option<string?>("--soak") { Description = "Soak per stage, e.g. 5m (default)" };
        var gates = new Option<string[]>("--gate") { Description = "Gate, e.g. error_rate<=0.01, p95_ratio<=1.5 (repeatable; default install_rate>=1, and golden_rate>=1 when the package has golden vectors)", AllowMultipleArgumentsPerToken = false };
        var onNoData = new Option<string?>("--on-no-data") { Description = "fail (default) or pass: what a gate still without data after --no-data-timeout does" };
        var noDataTimeout = new Option<string?>("--no-data-timeout") { Description = "How long past the soak a gate without data is waited for (default 10m)" };
        var onFailure = new Option<string?>("--on-failure") { Description = "pause (default) or rollback" };
        var approval = new Option<bool>("--require-approval") { Description = "Wait for promote after each passing stage" };
        var maxPerMinute = new Option<int?>("--max-per-minute") { Description = "The most deploys sent in any minute (default: no cap)" };
        var offline = new Option<string?>("--offline-timeout") { Description = "How long offline devices may hold up a stage (default 10m)" };
        var shadow = new Option<int?>("--shadow") { Description = "Live requests each device's new version replays in shadow mode before switching (adds the gate agreement>=0.9 by default)" };
        var shadowTimeout = new Option<string?>("--shadow-timeout") { Description = "The longest a device waits for those requests (default 1m)" };
        var shadowTolerance = new Option<double?>("--shadow-tolerance") { Description = "How close single-value outputs must be to agree (default 0.05)" };
        var command = new Command("start", "Start a staged rollout");
        foreach (var option in new Option[] { model, target, stages, soak, gates, onFailure, onNoData, noDataTimeout, approval, maxPerMinute, offline, shadow, shadowTimeout, shadowTolerance })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var (name, version) = ModelsCommands.NameAndVersion(parse.GetValue(model)!);
            var request = new RolloutRequest
            {
                Model = name,
                Version = version,
                Target = parse.GetValue(target),
                Stages = parse.GetValue(stages),
                Soak = parse.GetValue(soak),
                OnFailure = parse.GetValue(onFailure),
                OnNoData = parse.GetValue(onNoData),
                NoDataTimeout = parse.GetValue(noDataTimeout),
                RequireApproval = parse.GetValue(approval),
                OfflineTimeout = parse.GetValue(offline),
                MaxPerMinute = parse.GetValue(maxPerMinute),
                ShadowRequests = parse.GetValue(shadow),
                ShadowTimeout = parse.GetValue(shadowTimeout),
                ShadowTolerance = parse.GetValue(shadowTolerance),
                Gates = parse.GetValue(gates) is { Length: > 0 } list ? [.. list] : null,
            };

            using var client = cli.Client(parse);
            var view = await client.StartRolloutAsync(request, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, view, Json.RolloutView, () => Describe(cli, view));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List(CliContext cli)
    {
        var command = new Command("list", "List rollouts, newest first");
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var views = await client.ListRolloutsAsync(cancellationToken).ConfigureAwait(false);
            cli.Print(parse, views, Json.ListRolloutView, () =>
            {
                var table = new Table().AddColumns("Rollout", "Model", "State", "Stage", "Devices", "Reason");
                foreach (var view in views)
                {
                    var r = view.Rollout;
                    table.AddRow(
                        Markup.Escape(r.Id), Markup.Escape($"{r.Model} {r.Version}"), Markup.Escape(r.State.WireName()),
                        StageText(r), Markup.Escape(Counts(view)), Markup.Escape(r.Reason ?? ""));
                }

                cli.Console.Write(table);
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Status(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var watch = new Option<bool>("--watch") { Description = "Follow the rollout live until it completes, stops or waits for approval" };
        var interval = new Option<double>("--interval") { Description = "Seconds between polls with --watch", DefaultValueFactory = _ => 1 };
        var command = new Command("status", "Show a rollout: stages, devices, gates and history");
        command.Arguments.Add(id);
        command.Options.Add(watch);
        command.Options.Add(interval);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var rolloutId = parse.GetValue(id)!;
            if (!parse.GetValue(watch))
            {
                var view = await client.GetRolloutAsync(rolloutId, cancellationToken).ConfigureAwait(false);
                cli.Print(parse, view, Json.RolloutView, () => Describe(cli, view));
                return ExitCodes.Ok;
            }

            RolloutView last = new();
            var seen = 0;
            var delay = TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(interval)));
            async Task<RolloutView> FollowAsync(Action<RolloutView> update)
            {
                while (true)
                {
                    last = await client.GetRolloutAsync(rolloutId, cancellationToken).ConfigureAwait(false);
                    update(last);
                    if (last.Rollout.State is RolloutState.Completed or RolloutState.Paused or RolloutState.Aborted or RolloutState.RolledBack or RolloutState.WaitingApproval)
                    {
                        return last;
                    }

                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }

            if (parse.GetValue(cli.Json))
            {
                await FollowAsync(_ => { }).ConfigureAwait(false);
                cli.Print(parse, last, Json.RolloutView, () => { });
            }
            else
            {
                await cli.Console.Progress().StartAsync(async context =>
                {
                    var bar = context.AddTask("installed", maxValue: 1);
                    await FollowAsync(view =>
                    {
                        for (; seen < view.Events.Count; seen++)
                        {
                            var entry = view.Events[seen];
                            cli.Console.MarkupLine($"[grey]{Markup.Escape(entry.At.ToString("O", CultureInfo.InvariantCulture))}[/] [bold]{Markup.Escape(entry.Kind)}[/] {Markup.Escape(entry.Message)}");
                        }

                        bar.MaxValue = Math.Max(1, view.Targeted);
                        bar.Value = view.Counts.GetValueOrDefault(InstallState.Installed.WireName());
                        bar.Description = Markup.Escape($"{view.Rollout.State.WireName()}, stage {StageText(view.Rollout)}");
                    }).ConfigureAwait(false);
                }).ConfigureAwait(false);
                Describe(cli, last);
            }

            return last.Rollout.State is RolloutState.Completed or RolloutState.WaitingApproval ? ExitCodes.Ok : ExitCodes.RolloutStopped;
        }));
        return command;
    }

    private static Command Act(CliContext cli, string action)
    {
        var id = new Argument<string>("ID");
        var command = new Command(action, action switch
        {
            "pause" => "Pause: no more devices get the version",
            "resume" => "Resume a paused rollout",
            "promote" => "Advance to the next stage now (skipping soak and gates)",
            "abort" => "Stop the rollout; devices keep what they have",
            _ => "Return every updated device to its previous version",
        });
        command.Arguments.Add(id);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var view = await client.ActAsync(parse.GetValue(id)!, action, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, view, Json.RolloutView, () => Describe(cli, view));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string StageText(RolloutSummary rollout)
    {
        var spec = rollout.Stage < rollout.Stages.Count ? rollout.Stages[rollout.Stage].ToString() : "";
        return string.Create(CultureInfo.InvariantCulture, $"{rollout.Stage + 1}/{rollout.Stages.Count} ({spec})");
    }

    private static string Counts(RolloutView view) =>
        string.Join(" ", view.Counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}={c.Value}"))) + string.Create(CultureInfo.InvariantCulture, $" of {view.Targeted}");

    private static void Describe(CliContext cli, RolloutView view)
    {
        var r = view.Rollout;
        cli.Console.MarkupLine($"Rollout [bold]{Markup.Escape(r.Id)}[/]: {Markup.Escape(r.Model)} {Markup.Escape(r.Version)} [bold]{Markup.Escape(r.State.WireName())}[/], stage {StageText(r)}, {Markup.Escape(Counts(view))}");
        if (r.Reason is { Length: > 0 } reason)
        {
            cli.Console.MarkupLine($"  {Markup.Escape(reason)}");
        }

        var devices = new Table().AddColumns("Device", "Stage", "State", "Serving", "Agreement", "Reason");
        foreach (var d in view.Devices)
        {
            devices.AddRow(
                Markup.Escape(d.DeviceId), (d.Stage + 1).ToString(CultureInfo.InvariantCulture), Markup.Escape(d.State.WireName()),
                Markup.Escape(d.ServingVersion ?? ""), Markup.Escape(d.ShadowAgreement?.ToString(CultureInfo.InvariantCulture) ?? ""), Markup.Escape(d.Reason ?? ""));
        }

        cli.Console.Write(devices);
        var gates = new Table().AddColumns("Gate", "Value", "Samples", "Passed");
        foreach (var g in r.LastGateResults)
        {
            gates.AddRow(
                Markup.Escape(g.Gate), g.Value?.ToString(CultureInfo.InvariantCulture) ?? "no data", g.Samples.ToString(CultureInfo.InvariantCulture), g.Passed ? "[green]yes[/]" : "[red]no[/]");
        }

        cli.Console.Write(gates);
    }
}
