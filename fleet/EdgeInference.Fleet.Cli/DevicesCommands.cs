using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
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

    private static string Models(JsonNode? device) => string.Join(", ", (device?["models"]?.AsArray() ?? [])
        .Select(m => $"{CliContext.Text(m?["model"])} {(CliContext.Text(m?["package_version"]) is { Length: > 0 } v ? v : "v" + CliContext.Text(m?["version"]))} [{CliContext.Text(m?["state"])}, {CliContext.Text(m?["execution_provider"])}]"));

    private static string Tags(JsonNode? device) => string.Join(",", (device?["tags"]?.AsObject() ?? []).Select(t => $"{t.Key}={CliContext.Text(t.Value)}"));

    private static Command List(CliContext cli)
    {
        var command = new Command("list", "List devices: online, last seen, tags and models");
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var devices = await client.GetAsync("devices", cancellationToken).ConfigureAwait(false);
            cli.Print(parse, devices, () =>
            {
                var table = new Table().AddColumns("Device", "State", "Last seen", "Agent", "Tags", "Models");
                foreach (var d in devices?.AsArray() ?? [])
                {
                    var online = d?["online"]?.GetValue<bool>() == true;
                    table.AddRow(
                        Markup.Escape(CliContext.Text(d?["id"])), online ? "[green]online[/]" : "[grey]offline[/]", Markup.Escape(CliContext.Text(d?["last_seen"])),
                        Markup.Escape(CliContext.Text(d?["agent_version"])), Markup.Escape(Tags(d)), Markup.Escape(Models(d)));
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
            var device = await client.GetAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}", cancellationToken).ConfigureAwait(false);
            cli.Print(parse, device, () =>
            {
                var grid = new Grid().AddColumns(2);
                grid.AddRow("Device", Markup.Escape(CliContext.Text(device?["id"])));
                grid.AddRow("State", device?["online"]?.GetValue<bool>() == true ? "[green]online[/]" : "[grey]offline[/]");
                grid.AddRow("Last seen", Markup.Escape(CliContext.Text(device?["last_seen"])));
                grid.AddRow("Agent", Markup.Escape(CliContext.Text(device?["agent_version"])));
                grid.AddRow("Tags", Markup.Escape(Tags(device)));
                grid.AddRow("Models", Markup.Escape(Models(device)));
                if (device?["desired_configuration"] is { } desired)
                {
                    grid.AddRow("Configuration", Markup.Escape(desired.ToJsonString() + (device["configuration_pending"]?.GetValue<bool>() == true ? " (pending)" : " (applied)")));
                }
                foreach (var u in device?["updates"]?.AsArray() ?? [])
                {
                    grid.AddRow("Update", Markup.Escape($"{CliContext.Text(u?["model"])} {CliContext.Text(u?["version"])}: {CliContext.Text(u?["state"])} {CliContext.Text(u?["step"])} {CliContext.Text(u?["reason"])}"));
                }

                foreach (var m in device?["latest_telemetry"]?["models"]?.AsArray() ?? [])
                {
                    grid.AddRow("Telemetry", Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"{CliContext.Text(m?["model"])} {CliContext.Text(m?["package_version"])}: {CliContext.Text(m?["requests"])} requests, {CliContext.Text(m?["errors"])} errors, p95 {CliContext.Text(m?["latency_ms"]?["p95"])} ms")));
                }

                foreach (var (key, drift) in device?["drift"]?.AsObject() ?? [])
                {
                    grid.AddRow("Drift", Markup.Escape($"{key}: {(drift?["drifted"]?.GetValue<bool>() == true ? "DRIFT " + CliContext.Text(drift?["features"]) : "ok")}"));
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
            var body = new JsonObject();
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
            var device = await client.PatchAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/tags", body, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, device, () => cli.Console.MarkupLine($"{Markup.Escape(parse.GetValue(id)!)}: {Markup.Escape(Tags(device))}"));
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
            var enrollment = await client.PostAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/enroll", null, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(output) is { } file)
            {
                var settings = new JsonObject
                {
                    ["Mqtt"] = new JsonObject
                    {
                        ["Url"] = CliContext.Text(enrollment?["mqtt_url"]),
                        ["DeviceId"] = CliContext.Text(enrollment?["device_id"]),
                        ["Username"] = CliContext.Text(enrollment?["username"]),
                        ["Password"] = CliContext.Text(enrollment?["secret"]),
                    },
                };
                if (enrollment?["ca_pem"] is JsonValue ca)
                {
                    settings["Mqtt"]!["CaPem"] = ca.GetValue<string>(); // pinned: the device trusts this fleet's certificate only
                }

                // A new file, owner-only from the start; an existing one is replaced by a new 0600 file, never rewritten in place.
                DurableFiles.WriteAtomically(file, System.Text.Encoding.UTF8.GetBytes(settings.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })));
            }

            cli.Print(parse, enrollment, () =>
            {
                cli.Console.MarkupLine($"Enrolled [bold]{Markup.Escape(CliContext.Text(enrollment?["device_id"]))}[/]");
                cli.Console.MarkupLine($"  --mqtt {Markup.Escape(CliContext.Text(enrollment?["mqtt_url"]))} --device-id {Markup.Escape(CliContext.Text(enrollment?["device_id"]))} --mqtt-username {Markup.Escape(CliContext.Text(enrollment?["username"]))} --mqtt-password {Markup.Escape(CliContext.Text(enrollment?["secret"]))}");
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
            var device = await client.PostAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/revoke", null, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, device, () => cli.Console.MarkupLine($"Revoked [bold]{Markup.Escape(parse.GetValue(id)!)}[/] at {Markup.Escape(CliContext.Text(device?["revoked_at"]))}"));
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
            var body = new JsonObject { ["command"] = parse.GetValue(name), ["model"] = parse.GetValue(model), ["to_version"] = parse.GetValue(toVersion) };
            var sent = await client.PostAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/commands", body, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, sent, () => cli.Console.MarkupLine($"Command [bold]{Markup.Escape(CliContext.Text(sent?["id"]))}[/]: {Markup.Escape(CliContext.Text(sent?["state"]))}"));
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
            var body = new JsonObject
            {
                ["telemetry_interval_seconds"] = parse.GetValue(telemetry),
                ["drift_interval_seconds"] = parse.GetValue(drift),
                ["input_sample_rate"] = parse.GetValue(sampling),
            };
            if (parse.GetValue(providers) is { Length: > 0 } list)
            {
                body["execution_providers"] = new JsonArray(list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p => (JsonNode?)JsonValue.Create(p)).ToArray());
            }

            using var client = cli.Client(parse);
            var sent = await client.PutAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/configuration", body, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, sent, () => cli.Console.MarkupLine($"Command [bold]{Markup.Escape(CliContext.Text(sent?["id"]))}[/]: {Markup.Escape(CliContext.Text(sent?["state"]))}"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
