using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet rollouts start|list|status|pause|resume|promote|abort|rollback</c>.</summary>
internal static class RolloutsCommands
{
    private static readonly string[] Actions = ["pause", "resume", "promote", "abort", "rollback"];

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
            var body = new JsonObject
            {
                ["model"] = name,
                ["version"] = version,
                ["target"] = parse.GetValue(target),
                ["stages"] = parse.GetValue(stages),
                ["soak"] = parse.GetValue(soak),
                ["on_failure"] = parse.GetValue(onFailure),
                ["on_no_data"] = parse.GetValue(onNoData),
                ["no_data_timeout"] = parse.GetValue(noDataTimeout),
                ["require_approval"] = parse.GetValue(approval),
                ["offline_timeout"] = parse.GetValue(offline),
                ["max_per_minute"] = parse.GetValue(maxPerMinute),
                ["shadow_requests"] = parse.GetValue(shadow),
                ["shadow_timeout"] = parse.GetValue(shadowTimeout),
                ["shadow_tolerance"] = parse.GetValue(shadowTolerance),
            };
            if (parse.GetValue(gates) is { Length: > 0 } list)
            {
                body["gates"] = new JsonArray(list.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray());
            }

            using var client = cli.Client(parse);
            var view = await client.PostAsync("rollouts", body, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, view, () => Describe(cli, view));
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
            var views = await client.GetAsync("rollouts", cancellationToken).ConfigureAwait(false);
            cli.Print(parse, views, () =>
            {
                var table = new Table().AddColumns("Rollout", "Model", "State", "Stage", "Devices", "Reason");
                foreach (var view in views?.AsArray() ?? [])
                {
                    var r = view?["rollout"];
                    table.AddRow(
                        Markup.Escape(CliContext.Text(r?["id"])), Markup.Escape($"{CliContext.Text(r?["model"])} {CliContext.Text(r?["version"])}"), Markup.Escape(CliContext.Text(r?["state"])),
                        StageText(r), Markup.Escape(Counts(view)), Markup.Escape(CliContext.Text(r?["reason"])));
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
            var path = $"rollouts/{Uri.EscapeDataString(parse.GetValue(id)!)}";
            if (!parse.GetValue(watch))
            {
                var view = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
                cli.Print(parse, view, () => Describe(cli, view));
                return ExitCodes.Ok;
            }

            JsonNode? last = null;
            var seen = 0;
            var delay = TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(interval)));
            async Task<JsonNode?> FollowAsync(Action<JsonNode?> update)
            {
                while (true)
                {
                    last = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
                    update(last);
                    if (CliContext.Text(last?["rollout"]?["state"]) is "completed" or "paused" or "aborted" or "rolled_back" or "waiting_approval")
                    {
                        return last;
                    }

                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }

            if (parse.GetValue(cli.Json))
            {
                await FollowAsync(_ => { }).ConfigureAwait(false);
                cli.Print(parse, last, () => { });
            }
            else
            {
                await cli.Console.Progress().StartAsync(async context =>
                {
                    var bar = context.AddTask("installed", maxValue: 1);
                    await FollowAsync(view =>
                    {
                        var events = view?["events"]?.AsArray() ?? [];
                        for (; seen < events.Count; seen++)
                        {
                            cli.Console.MarkupLine($"[grey]{Markup.Escape(CliContext.Text(events[seen]?["at"]))}[/] [bold]{Markup.Escape(CliContext.Text(events[seen]?["kind"]))}[/] {Markup.Escape(CliContext.Text(events[seen]?["message"]))}");
                        }

                        bar.MaxValue = Math.Max(1, view?["targeted"]?.GetValue<int>() ?? 1);
                        bar.Value = view?["counts"]?["installed"]?.GetValue<int>() ?? 0;
                        bar.Description = Markup.Escape($"{CliContext.Text(view?["rollout"]?["state"])}, stage {StageText(view?["rollout"])}");
                    }).ConfigureAwait(false);
                }).ConfigureAwait(false);
                Describe(cli, last);
            }

            return CliContext.Text(last?["rollout"]?["state"]) is "completed" or "waiting_approval" ? ExitCodes.Ok : ExitCodes.RolloutStopped;
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
            var view = await client.PostAsync($"rollouts/{Uri.EscapeDataString(parse.GetValue(id)!)}/{action}", null, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, view, () => Describe(cli, view));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string StageText(JsonNode? rollout)
    {
        var stage = rollout?["stage"]?.GetValue<int>() ?? 0;
        var stages = rollout?["stages"]?.AsArray() ?? [];
        var spec = stage < stages.Count ? (CliContext.Text(stages[stage]?["count"]) is { Length: > 0 } count ? count : CliContext.Text(stages[stage]?["percent"]) + "%") : "";
        return string.Create(CultureInfo.InvariantCulture, $"{stage + 1}/{stages.Count} ({spec})");
    }

    private static string Counts(JsonNode? view) =>
        string.Join(" ", (view?["counts"]?.AsObject() ?? []).Select(c => $"{c.Key}={CliContext.Text(c.Value)}")) + $" of {CliContext.Text(view?["targeted"])}";

    private static void Describe(CliContext cli, JsonNode? view)
    {
        var r = view?["rollout"];
        cli.Console.MarkupLine($"Rollout [bold]{Markup.Escape(CliContext.Text(r?["id"]))}[/]: {Markup.Escape(CliContext.Text(r?["model"]))} {Markup.Escape(CliContext.Text(r?["version"]))} [bold]{Markup.Escape(CliContext.Text(r?["state"]))}[/], stage {StageText(r)}, {Markup.Escape(Counts(view))}");
        if (CliContext.Text(r?["reason"]) is { Length: > 0 } reason)
        {
            cli.Console.MarkupLine($"  {Markup.Escape(reason)}");
        }

        var devices = new Table().AddColumns("Device", "Stage", "State", "Serving", "Agreement", "Reason");
        foreach (var d in view?["devices"]?.AsArray() ?? [])
        {
            devices.AddRow(
                Markup.Escape(CliContext.Text(d?["device_id"])), ((d?["stage"]?.GetValue<int>() ?? 0) + 1).ToString(CultureInfo.InvariantCulture), Markup.Escape(CliContext.Text(d?["state"])),
                Markup.Escape(CliContext.Text(d?["serving_version"])), Markup.Escape(CliContext.Text(d?["shadow_agreement"])), Markup.Escape(CliContext.Text(d?["reason"])));
        }

        cli.Console.Write(devices);
        var gates = new Table().AddColumns("Gate", "Value", "Samples", "Passed");
        foreach (var g in r?["last_gate_results"]?.AsArray() ?? [])
        {
            gates.AddRow(Markup.Escape(CliContext.Text(g?["gate"])), CliContext.Text(g?["value"]) is { Length: > 0 } v ? v : "no data", CliContext.Text(g?["samples"]), g?["passed"]?.GetValue<bool>() == true ? "[green]yes[/]" : "[red]no[/]");
        }

        cli.Console.Write(gates);
    }
}
