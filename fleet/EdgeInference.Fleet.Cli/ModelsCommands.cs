using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Fleet.Api;
using EdgeInference.Optimization.Import;
using EdgeInference.Optimization.Inspection;
using EdgeInference.Optimization.Tflite;
using EdgeInference.Optimization.Verification;
using EdgeInference.Storage;
using Google.Protobuf;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Configuration;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet models push|list|show</c>.</summary>
internal static class ModelsCommands
{
    private static readonly FleetApiJsonContext Json = FleetApiJsonContext.Default;

    public static Command Build(CliContext cli)
    {
        var models = new Command("models", "Model packages");
        models.Subcommands.Add(Push(cli));
        models.Subcommands.Add(List(cli));
        models.Subcommands.Add(Show(cli));
        models.Subcommands.Add(Inspect(cli));
        models.Subcommands.Add(Import(cli));
        models.Subcommands.Add(Verify(cli));
        models.Subcommands.Add(QuantizeCommand.Build(cli));
        models.Subcommands.Add(OptimizeCommand.Build(cli));
        models.Subcommands.Add(ModelBenchmarkCommand.Build(cli));
        models.Subcommands.Add(ModelExportCommand.Build(cli));
        return models;
    }

    /// <summary>Splits <c>NAME@VERSION</c>; throws <see cref="ArgumentException"/>.</summary>
    public static (string Name, string Version) NameAndVersion(string text)
    {
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            throw new ArgumentException($"'{text}' is not NAME@VERSION (e.g. hey_jarvis@2.0.0)");
        }

        return (text[..at], text[(at + 1)..]);
    }

    private static Command Push(CliContext cli)
    {
        var file = new Argument<string>("FILE") { Description = "The ONNX model, or a package folder (models optimize writes one): its model.onnx, and its golden.json, profile.json and config.json where present" };
        var name = new Option<string>("--name") { Description = "Model name (the folder on devices)", Required = true };
        var version = new Option<string>("--version") { Description = "Semantic version, e.g. 2.0.0", Required = true };
        var profile = new Option<string?>("--profile") { Description = "Reference drift profile (edge-agent profile)" };
        var golden = new Option<string?>("--golden") { Description = "Golden test vectors (golden.json)" };
        var config = new Option<string?>("--config") { Description = "The version's model config (config.json: providers, batching, warm-up inputs, threads, cache)" };
        var signKey = new Option<string?>("--sign-key") { Description = "Private key (PEM) to sign the manifest with; without it the package is unsigned and devices refuse it" };
        var expires = new Option<string?>("--expires-in") { Description = "Refuse installs after this long, e.g. 30d, 12h" };
        var minAgent = new Option<string?>("--min-agent-version") { Description = "Oldest agent that may install it" };
        var rollback = new Option<bool>("--rollback") { Description = "Sign permission to replace a newer version (a deliberate downgrade)" };
        var command = new Command("push", "Build, sign and upload a model package");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { name, version, profile, golden, config, signKey, expires, minAgent, rollback })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var source = parse.GetValue(file)!;
            string? Beside(Option<string?> option, string role) =>
                parse.GetValue(option) ?? (Directory.Exists(source) && File.Exists(Path.Combine(source, PackageRoles.FileNames[role])) ? Path.Combine(source, PackageRoles.FileNames[role]) : null);
            var files = new Dictionary<string, string> { [PackageRoles.Model] = Existing(Directory.Exists(source) ? Path.Combine(source, PackageRoles.FileNames[PackageRoles.Model]) : source) };
            if (Beside(profile, PackageRoles.Profile) is { } p)
            {
                files[PackageRoles.Profile] = Existing(p);
            }

            if (Beside(golden, PackageRoles.Golden) is { } g)
            {
                files[PackageRoles.Golden] = Existing(g);
                try
                {
                    JsonSerializer.Deserialize(File.ReadAllBytes(g), PackageJsonContext.Default.GoldenSet);
                }
                catch (JsonException ex)
                {
                    throw new FormatException($"{g} is not a golden vector file: {ex.Message}", ex);
                }
            }

            if (Beside(config, PackageRoles.Config) is { } c)
            {
                files[PackageRoles.Config] = Existing(c);
                try
                {
                    ModelConfigReader.Parse(File.ReadAllBytes(c), c);
                }
                catch (ModelConfigException ex)
                {
                    throw new FormatException($"{c} is not a model config: {ex.Message}", ex);
                }
            }

            var manifest = ManifestBuilder.Build(parse.GetValue(name)!, parse.GetValue(version)!, files, DateTimeOffset.UtcNow);
            manifest.MinAgentVersion = parse.GetValue(minAgent);
            manifest.Rollback = parse.GetValue(rollback);
            if (parse.GetValue(expires) is { } e)
            {
                manifest.ExpiresAt = manifest.CreatedAt + Duration(e);
            }

            try
            {
                ManifestCodec.Check(manifest);
            }
            catch (PackageRejectedException ex)
            {
                throw new ArgumentException(ex.Message, ex);
            }

            SignedManifest signed;
            if (parse.GetValue(signKey) is { } keyPath)
            {
                using var key = SigningKey.FromPem(File.ReadAllText(Existing(keyPath)));
                signed = key.Sign(manifest);
            }
            else
            {
                signed = new SignedManifest { Manifest = Convert.ToBase64String(ManifestCodec.Serialize(manifest)) };
                cli.Console.MarkupLine("[yellow]warning:[/] no --sign-key: devices refuse unsigned packages");
            }

            using var client = cli.Client(parse);
            var json = parse.GetValue(cli.Json);
            async Task UploadAllAsync(Func<string, long, Action<long>> track)
            {
                foreach (var (role, local) in files)
                {
                    var remote = PackageRoles.FileNames[role];
                    var progress = track(remote, new FileInfo(local).Length);
                    await client.UploadAsync(manifest.Name, manifest.Version, remote, new ProgressContent(local, progress), cancellationToken).ConfigureAwait(false);
                }
            }

            if (json)
            {
                await UploadAllAsync((_, _) => _ => { }).ConfigureAwait(false);
            }
            else
            {
                await cli.Console.Progress().StartAsync(async context =>
                    await UploadAllAsync((remote, size) =>
                    {
                        var task = context.AddTask(Markup.Escape(remote), maxValue: Math.Max(1, size));
                        return sent => task.Value = sent;
                    }).ConfigureAwait(false)).ConfigureAwait(false);
            }

            var result = await client.SealAsync(manifest.Name, manifest.Version, signed, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, result, Json.PackageView, () => cli.Console.MarkupLine(
                $"Pushed [bold]{Markup.Escape(manifest.Name)} {Markup.Escape(manifest.Version)}[/] ({manifest.Files.Count} files, {(signed.Signature is null ? "[yellow]unsigned[/]" : "signed by " + signed.Signature.KeyId)})"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List(CliContext cli)
    {
        var command = new Command("list", "List the packages");
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var packages = await client.ListPackagesAsync(cancellationToken).ConfigureAwait(false);
            cli.Print(parse, packages, Json.ListPackageView, () =>
            {
                var table = new Table().AddColumns("Model", "Version", "Signed by", "Files", "Pushed");
                foreach (var package in packages)
                {
                    table.AddRow(
                        Markup.Escape(package.Name), Markup.Escape(package.Version), Markup.Escape(package.Signed.Signature?.KeyId ?? "unsigned"),
                        package.Manifest.Files.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Markup.Escape(package.PushedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
                }

                cli.Console.Write(table);
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliContext cli)
    {
        var which = new Argument<string>("NAME@VERSION");
        var command = new Command("show", "Show a package's manifest, and its on-device benchmarks");
        command.Arguments.Add(which);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var (name, version) = NameAndVersion(parse.GetValue(which)!);
            using var client = cli.Client(parse);
            var package = await client.GetPackageAsync(name, version, cancellationToken).ConfigureAwait(false);
            var benchmarks = (await client.ListBenchmarksAsync(name, version, cancellationToken).ConfigureAwait(false)).DistinctBy(b => b.DeviceId).OrderBy(b => b.DeviceId, StringComparer.Ordinal).ToList();
            cli.Print(parse, package, Json.PackageView, () =>
            {
                var manifest = package.Manifest;
                cli.Console.MarkupLine($"[bold]{Markup.Escape(name)} {Markup.Escape(version)}[/]  signed by {Markup.Escape(package.Signed.Signature?.KeyId ?? "nobody (unsigned)")}");
                var files = new Table().AddColumns("File", "Role", "Size", "SHA-256");
                foreach (var f in manifest.Files)
                {
                    files.AddRow(Markup.Escape(f.Path), Markup.Escape(f.Role), f.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), f.Sha256);
                }

                cli.Console.Write(files);
                var io = new Table().AddColumns("Tensor", "Name", "Datatype", "Shape");
                foreach (var (kind, list) in new[] { ("input", manifest.Inputs), ("output", manifest.Outputs) })
                {
                    foreach (var t in list)
                    {
                        io.AddRow(kind, Markup.Escape(t.Name), t.Datatype, Markup.Escape("[" + string.Join(",", t.Shape) + "]"));
                    }
                }

                cli.Console.Write(io);
                if (benchmarks.Count > 0)
                {
                    cli.Console.MarkupLine("On-device benchmarks, the newest per device:");
                    ModelBenchmarkCommand.Table(cli, benchmarks);
                }
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Inspect(CliContext cli)
    {
        var file = new Argument<string>("MODEL") { Description = "An ONNX or TFLite model file" };
        var command = new Command("inspect", "Show a model file's format, versions, inputs and outputs, operators, tensor types and whether it is quantized");
        command.Arguments.Add(file);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(() =>
        {
            var inspection = ModelInspector.Inspect(Existing(parse.GetValue(file)!));
            cli.Print(parse, JsonSerializer.SerializeToNode(inspection, OptimizationJsonContext.Default.ModelInspection), () => Describe(cli, inspection));
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Import(CliContext cli)
    {
        var file = new Argument<string>("MODEL") { Description = "A TFLite model (.tflite)" };
        var output = new Option<string>("--out") { Description = "The folder to write model.onnx and report.json to", Required = true };
        var command = new Command("import", "Convert a TFLite model to ONNX (float models; every operator it cannot convert is refused by name)");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var source = Existing(parse.GetValue(file)!);
            var bytes = await File.ReadAllBytesAsync(source, cancellationToken).ConfigureAwait(false);
            var (onnx, report) = TfliteImporter.Import(TfliteModel.Parse(bytes), Path.GetFileNameWithoutExtension(source));
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(folder);
            var written = onnx.ToByteArray();
            var target = Path.Combine(folder, "model.onnx");
            DurableFiles.WriteAtomically(target, written);
            report.Source = Path.GetFileName(source);
            report.SourceSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            report.Output = target;
            report.OutputSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(written));
            DurableFiles.WriteAtomically(Path.Combine(folder, "report.json"), JsonSerializer.SerializeToUtf8Bytes(report, OptimizationJsonContext.Default.ImportReport));
            cli.Print(parse, JsonSerializer.SerializeToNode(report, OptimizationJsonContext.Default.ImportReport), () => cli.Console.MarkupLine(Markup.Escape(
                $"Imported {report.Source} into {target}: {report.Converted.Values.Sum()} TFLite operators ({string.Join(", ", report.Converted.Select(o => $"{o.Key} ×{o.Value}"))}) became {report.Nodes.Values.Sum()} ONNX nodes, opset {report.Opset}")));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Verify(CliContext cli)
    {
        var reference = new Argument<string>("REFERENCE") { Description = "The reference model (ONNX)" };
        var candidate = new Argument<string>("CANDIDATE") { Description = "The model to check against it (ONNX)" };
        var inputs = new Option<string>("--inputs") { Description = "A folder of .npy inputs (or of sample folders of <input name>.npy)", Required = true };
        var gateOptions = new GateOptions();
        var reportFile = new Option<string?>("--report") { Description = "Also write the report (JSON) to this file" };
        var command = new Command("verify", "Compare a candidate model with its reference on inputs: max and p99 |Δ|, cosine, decision agreement, positives kept; exit 0 only if every gate holds");
        command.Arguments.Add(reference);
        command.Arguments.Add(candidate);
        command.Options.Add(inputs);
        gateOptions.AddTo(command);
        command.Options.Add(reportFile);

        command.SetAction((parse, cancellationToken) => cli.RunAsync(() =>
        {
            var gates = gateOptions.Read(parse);
            var report = ModelComparer.Compare(Existing(parse.GetValue(reference)!), Existing(parse.GetValue(candidate)!), parse.GetValue(inputs)!, gates);
            if (parse.GetValue(reportFile) is { } file)
            {
                DurableFiles.WriteAtomically(Path.GetFullPath(file), JsonSerializer.SerializeToUtf8Bytes(report, OptimizationJsonContext.Default.VerificationReport));
            }

            cli.Print(parse, JsonSerializer.SerializeToNode(report, OptimizationJsonContext.Default.VerificationReport), () =>
            {
                var table = new Table().AddColumns("Output", "max |Δ|", "p99 |Δ|", "min cosine", "agreement", "positives kept");
                foreach (var o in report.Outputs)
                {
                    table.AddRow(Markup.Escape(o.Reference), Number(o.MaxAbsDiff), Number(o.P99AbsDiff), o.MinCosine is { } cosine ? Number(cosine) : "", Number(o.Agreement),
                        o.PositivesKept is { } kept ? $"{Number(kept)} of {o.ReferencePositives}" : o.ReferencePositives == 0 ? "no positives" : "");
                }

                cli.Console.Write(table);
                foreach (var gate in report.Gates)
                {
                    cli.Console.MarkupLine($"{(gate.Passed ? "[green]pass[/]" : "[red]FAIL[/]")} {Markup.Escape(gate.Gate)}: measured {Number(gate.Measured)}, limit {Number(gate.Limit)}");
                }

                cli.Console.MarkupLine(Markup.Escape($"{report.Inputs} inputs; {(report.Gates.Count == 0 ? "no gates given" : report.Passed ? "every gate holds" : "a gate fails")}"));
            });
            return Task.FromResult(report.Passed ? ExitCodes.Ok : ExitCodes.GateFailed);
        }));
        return command;
    }

    private static string Number(double value) => value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);

    private static void Describe(CliContext cli, ModelInspection model)
    {
        var grid = new Grid().AddColumns(2);
        grid.AddRow("File", Markup.Escape($"{model.File} ({model.Bytes:N0} bytes, sha256 {model.Sha256[..16]}…)"));
        grid.AddRow("Format", Markup.Escape(model.Format == "onnx"
            ? $"ONNX, IR {model.FormatVersion}, opsets {string.Join(", ", (model.Opsets ?? []).Select(o => $"{o.Key} {o.Value}"))}"
            : $"TFLite, schema {model.FormatVersion}"));
        grid.AddRow("Producer", Markup.Escape(model.Producer ?? ""));
        grid.AddRow("Subgraphs", model.Subgraphs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("Quantized", Markup.Escape($"{(model.Quantized ? "yes" : "no")}: {model.QuantizedBecause}"));
        grid.AddRow("Operators", Markup.Escape(string.Join(", ", model.Operators.Select(o => $"{o.Key} ×{o.Value}"))));
        grid.AddRow("Tensor types", Markup.Escape(string.Join(", ", model.TensorTypes.Select(t => $"{t.Key} ×{t.Value}"))));
        cli.Console.Write(grid);
        var io = new Table().AddColumns("Tensor", "Name", "Type", "Shape", "Quantization");
        foreach (var (kind, list) in new[] { ("input", model.Inputs), ("output", model.Outputs) })
        {
            foreach (var t in list)
            {
                var quantization = t.Scale is { Count: > 0 } scale ? $"scale {string.Join(",", scale.Take(4))}{(scale.Count > 4 ? "…" : "")} zero point {string.Join(",", (t.ZeroPoint ?? []).Take(4))}" : "";
                io.AddRow(kind, Markup.Escape(t.Name), t.Type, Markup.Escape("[" + string.Join(",", t.Shape) + "]"), Markup.Escape(quantization));
            }
        }

        cli.Console.Write(io);
    }

    internal static string Existing(string path) => File.Exists(path) ? path : throw new IOException($"{path} does not exist");

    internal static TimeSpan Duration(string text)
    {
        var unit = text.Length > 0 ? text[^1] : ' ';
        var scale = unit switch { 'd' => 86400.0, 'h' => 3600.0, 'm' => 60.0, 's' => 1.0, _ => 0 };
        return scale > 0 && double.TryParse(text[..^1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
            && value * scale <= TimeSpan.FromDays(3650).TotalSeconds
            ? TimeSpan.FromSeconds(value * scale)
            : throw new ArgumentException($"'{text}' is not a duration of at most ten years (e.g. 30d, 12h, 45m)");
    }
}
