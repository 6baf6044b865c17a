using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using EdgeInference.Storage;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet devices list|show|tag|enroll|send|configure</c>.</summary>
internal static class DevicesCommands
{
    public static Command Build(CliContext cli)
    {
        var devices = new Command("devices", "The device registry");
        devices.Subcommands.Add(List(cli));
        devices.Subcommands.Add(Show(cli));
        devices.Subcommands.Add(Tag(cli));
        devices.Subcommands.Add(Enroll(cli));
        devices.Subcommands.Add(Revoke(cli));
        devices.Subcommands.Add(Send(cli));
        devices.Subcommands.Add(Configure(cli));
        return devices;
    }

    private static readonly FleetApiJsonContext Json = FleetApiJsonContext.Default;

    private static string Models(DeviceView device) => string.Join(", ", device.Models
        .Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Model} {(m.PackageVersion is { Length: > 0 } v ? v : "v" + m.Version)} [{m.State}, {m.ExecutionProvider}]")));

    private static string Tags(DeviceView device) => string.Join(",", device.Tags.Select(t => $"{t.Key}={t.Value}"));

    private static string Time(DateTimeOffset? at) => at?.ToString("O", CultureInfo.InvariantCulture) ?? "";

    private static Command List(CliContext cli)
    {
        var command = new Command("list", "List devices: online, last seen, tags and models");
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var devices = await client.ListDevicesAsync(cancellationToken).ConfigureAwait(false);
            cli.Print(parse, devices, Json.ListDeviceView, () =>
            {
                var table = new Table().AddColumns("Device", "State", "Last seen", "Agent", "Tags", "Models");
                foreach (var d in devices)
                {
                    table.AddRow(
                        Markup.Escape(d.Id), d.Online ? "[green]online[/]" : "[grey]offline[/]", Markup.Escape(Time(d.LastSeen)),
                        Markup.Escape(d.AgentVersion ?? ""), Markup.Escape(Tags(d)), Markup.Escape(Models(d)));
                }

                cli.Console.Write(table);
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var command = new Command("show", "Show one device: models, updates, latest telemetry and drift");
        command.Arguments.Add(id);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var device = await client.GetDeviceAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, device, Json.DeviceView, () =>
            {
                var grid = new Grid().AddColumns(2);
                grid.AddRow("Device", Markup.Escape(device.Id));
                grid.AddRow("State", device.Online ? "[green]online[/]" : "[grey]offline[/]");
                grid.AddRow("Last seen", Markup.Escape(Time(device.LastSeen)));
                grid.AddRow("Agent", Markup.Escape(device.AgentVersion ?? ""));
                grid.AddRow("Tags", Markup.Escape(Tags(device)));
                grid.AddRow("Models", Markup.Escape(Models(device)));
                if (device.DesiredConfiguration is { } desired)
                {
                    grid.AddRow("Configuration", Markup.Escape(System.Text.Json.JsonSerializer.Serialize(desired, Json.DesiredConfiguration) + (device.ConfigurationPending ? " (pending)" : " (applied)")));
                }

                foreach (var u in device.Updates)
                {
                    grid.AddRow("Update", Markup.Escape($"{u.Model} {u.Version}: {u.State.WireName()} {u.Step?.WireName()} {u.Reason}"));
                }

                foreach (var m in device.LatestTelemetry?.Models ?? [])
                {
                    grid.AddRow("Telemetry", Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"{m.Model} {m.PackageVersion}: {m.Requests} requests, {m.Errors} errors, p95 {m.LatencyMs?.P95} ms")));
                }

                foreach (var (key, drift) in device.Drift)
                {
                    grid.AddRow("Drift", Markup.Escape($"{key}: {(drift.Drifted ? "DRIFT " + string.Join(",", drift.Features) : "ok")}"));
                }

                cli.Console.Write(grid);
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Tag(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var tags = new Argument<string[]>("TAGS") { Description = "key=value to set, key= to remove", Arity = ArgumentArity.OneOrMore };
        var command = new Command("tag", "Set or remove a device's tags");
        command.Arguments.Add(id);
        command.Arguments.Add(tags);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var body = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var tag in parse.GetValue(tags)!)
            {
                var equals = tag.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new ArgumentException($"tag '{tag}' is not key=value (or key= to remove it)");
                }

                body[tag[..equals]] = tag[(equals + 1)..];
            }

            using var client = cli.Client(parse);
            var device = await client.TagAsync(parse.GetValue(id)!, body, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, device, Json.DeviceView, () => cli.Console.MarkupLine($"{Markup.Escape(parse.GetValue(id)!)}: {Markup.Escape(Tags(device))}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Enroll(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var output = new Option<string?>("--out") { Description = "Also write the agent's settings (JSON for --config) to this file" };
        var command = new Command("enroll", "Enroll a device and print its credentials (shown once)");
        command.Arguments.Add(id);
        command.Options.Add(output);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var enrollment = await client.EnrollAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(output) is { } file)
            {
                var settings = new JsonObject
                {
                    ["Mqtt"] = new JsonObject
                    {
                        ["Url"] = enrollment.MqttUrl,
                        ["DeviceId"] = enrollment.DeviceId,
                        ["Username"] = enrollment.Username,
                        ["Password"] = enrollment.Secret,
                    },
                };
                if (enrollment.CaPem is { } ca)
                {
                    settings["Mqtt"]!["CaPem"] = ca; // pinned: the device trusts this fleet's certificate only
                }

                // A new file, owner-only from the start; an existing one is replaced by a new 0600 file, never rewritten in place.
                DurableFiles.WriteAtomically(file, System.Text.Encoding.UTF8.GetBytes(settings.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })));
            }

            cli.Print(parse, enrollment, Json.Enrollment, () =>
            {
                cli.Console.MarkupLine($"Enrolled [bold]{Markup.Escape(enrollment.DeviceId)}[/]");
                cli.Console.MarkupLine($"  --mqtt {Markup.Escape(enrollment.MqttUrl)} --device-id {Markup.Escape(enrollment.DeviceId)} --mqtt-username {Markup.Escape(enrollment.Username)} --mqtt-password {Markup.Escape(enrollment.Secret)}");
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Revoke(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var command = new Command("revoke", "Revoke a device: its secret stops working, it is disconnected, and rollouts leave it out");
        command.Arguments.Add(id);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var device = await client.RevokeAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, device, Json.DeviceView, () => cli.Console.MarkupLine($"Revoked [bold]{Markup.Escape(parse.GetValue(id)!)}[/] at {Markup.Escape(Time(device.RevokedAt))}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Send(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var name = new Argument<string>("COMMAND") { Description = "reload, rollback, restart" };
        var model = new Option<string?>("--model");
        var toVersion = new Option<string?>("--to-version");
        var command = new Command("send", "Send a command to a device and print its id (see GET /api/v1/commands/ID)");
        command.Arguments.Add(id);
        command.Arguments.Add(name);
        command.Options.Add(model);
        command.Options.Add(toVersion);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var request = new CommandRequest { Command = parse.GetValue(name)!, Model = parse.GetValue(model), ToVersion = parse.GetValue(toVersion) };
            var sent = await client.SendCommandAsync(parse.GetValue(id)!, request, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, sent, Json.CommandView, () => cli.Console.MarkupLine($"Command [bold]{Markup.Escape(sent.Id)}[/]: {Markup.Escape(sent.State.WireName())}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Configure(CliContext cli)
    {
        var id = new Argument<string>("ID");
        var telemetry = new Option<double?>("--telemetry-interval") { Description = "Seconds between telemetry windows" };
        var drift = new Option<double?>("--drift-interval") { Description = "Seconds between drift windows" };
        var sampling = new Option<double?>("--input-sample-rate") { Description = "Share of requests whose inputs the prediction log keeps (0 to 1)" };
        var providers = new Option<string?>("--providers") { Description = "Execution-provider preference, e.g. XNNPACK,CPU (models reload with it)" };
        var command = new Command("configure", "Set a device's desired configuration (only the options given change); the device acknowledges it");
        command.Arguments.Add(id);
        foreach (var option in new Option[] { telemetry, drift, sampling, providers })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var configuration = new DesiredConfiguration
            {
                TelemetryIntervalSeconds = parse.GetValue(telemetry),
                DriftIntervalSeconds = parse.GetValue(drift),
                InputSampleRate = parse.GetValue(sampling),
                ExecutionProviders = parse.GetValue(providers) is { Length: > 0 } list ? [.. list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)] : null,
            };

            using var client = cli.Client(parse);
            var sent = await client.ConfigureAsync(parse.GetValue(id)!, configuration, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, sent, Json.CommandView, () => cli.Console.MarkupLine($"Command [bold]{Markup.Escape(sent.Id)}[/]: {Markup.Escape(sent.State.WireName())}"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
