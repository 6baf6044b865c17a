using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Fleet.Api;
using EdgeInference.Packaging;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary>
/// <c>edgefleet trust create|sign|push|show</c>: the signed trust document that rotates and revokes package-signing keys
/// and sets version floors. Root private keys sign it offline; the fleet only carries it to devices.
/// </summary>
public static class TrustCommands
{
    public static Command Build(CliContext cli)
    {
        var trust = new Command("trust", "Signed trust documents: package-signing keys, revocations, version floors, root keys");
        trust.Subcommands.Add(Create(cli));
        trust.Subcommands.Add(Sign(cli));
        trust.Subcommands.Add(Push(cli));
        trust.Subcommands.Add(Show(cli));
        return trust;
    }

    private static Command Create(CliContext cli)
    {
        var version = new Option<long>("--version") { Description = "The document's version: higher than the one devices hold", Required = true };
        var roots = new Option<string[]>("--root") { Description = "A root public key (PEM) that signs the next trust document (repeatable)", Required = true };
        var threshold = new Option<int>("--threshold") { Description = "How many root keys must sign (default 1)", DefaultValueFactory = _ => 1 };
        var signing = new Option<string[]>("--signing-key") { Description = "A public key (PEM) trusted to sign packages (repeatable)" };
        var revoke = new Option<string[]>("--revoke") { Description = "A key id no package or trust document may be signed with any more (repeatable)" };
        var floors = new Option<string[]>("--floor") { Description = "MODEL=VERSION: devices install nothing below it, signed rollbacks included (repeatable)" };
        var expires = new Option<string>("--expires-in") { Description = "How long devices accept it (default 365d; at most 400d)", DefaultValueFactory = _ => "365d" };
        var sign = new Option<string[]>("--sign") { Description = "A root private key (PEM) to sign with now (repeatable; more can sign later with 'trust sign')" };
        var output = new Option<string>("--out") { Description = "Where to write the signed document", Required = true };
        var command = new Command("create", "Write a new trust document, signed by the given root keys");
        foreach (var option in new Option[] { version, roots, threshold, signing, revoke, floors, expires, sign, output })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var document = new TrustDocument
            {
                Version = parse.GetValue(version),
                ExpiresAt = DateTimeOffset.UtcNow + ModelsCommands.Duration(parse.GetValue(expires)!),
                Threshold = parse.GetValue(threshold),
                RootKeys = [.. (parse.GetValue(roots) ?? []).Select(ReadFile)],
                SigningKeys = [.. (parse.GetValue(signing) ?? []).Select(ReadFile)],
                RevokedKeys = [.. parse.GetValue(revoke) ?? []],
            };
            foreach (var floor in parse.GetValue(floors) ?? [])
            {
                var parts = floor.Split('=', 2);
                document.Floors[parts[0]] = parts.Length == 2 ? parts[1] : throw new ArgumentException($"--floor '{floor}' is not MODEL=VERSION");
            }

            var keys = (parse.GetValue(sign) ?? []).Select(path => SigningKey.FromPem(ReadFile(path))).ToArray();
            try
            {
                var signed = TrustCodec.Sign(document, keys);
                TrustCodec.Parse(signed); // the same structural checks a device applies
                await WriteAsync(parse.GetValue(output)!, signed, cancellationToken).ConfigureAwait(false);
                cli.Print(parse, Describe(signed), () => cli.Console.MarkupLine(
                    $"Trust version [bold]{document.Version}[/], signed by {keys.Length} of {document.RootKeys.Count} root keys (threshold {document.Threshold}): {Markup.Escape(parse.GetValue(output)!)}"));
            }
            finally
            {
                foreach (var key in keys)
                {
                    key.Dispose();
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Sign(CliContext cli)
    {
        var file = new Argument<string>("file") { Description = "The signed trust document" };
        var key = new Option<string>("--key") { Description = "A root private key (PEM)", Required = true };
        var command = new Command("sign", "Add a root key's signature to a trust document");
        command.Arguments.Add(file);
        command.Options.Add(key);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var root = SigningKey.FromPem(ReadFile(parse.GetValue(key)!));
            var signed = TrustCodec.AddSignature(await ReadAsync(parse.GetValue(file)!, cancellationToken).ConfigureAwait(false), root);
            await WriteAsync(parse.GetValue(file)!, signed, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, Describe(signed), () => cli.Console.MarkupLine($"Signed by {root.KeyId}: {signed.Signatures.Count} signatures"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Push(CliContext cli)
    {
        var file = new Argument<string>("file") { Description = "The signed trust document" };
        var command = new Command("push", "Give the fleet a newer trust document; it sends it to every device");
        command.Arguments.Add(file);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var signed = await ReadAsync(parse.GetValue(file)!, cancellationToken).ConfigureAwait(false);
            using var client = cli.Client(parse);
            var result = await client.PushTrustAsync(signed, cancellationToken).ConfigureAwait(false);
            cli.Print(parse, result, FleetApiJsonContext.Default.TrustPushed, () => cli.Console.MarkupLine($"Trust version [bold]{result.Version}[/] sent to {result.Devices} devices"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliContext cli)
    {
        var command = new Command("show", "The trust document the fleet hands devices");
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            using var client = cli.Client(parse);
            var signed = await client.GetTrustAsync(cancellationToken).ConfigureAwait(false);
            var described = Describe(signed);
            cli.Print(parse, described, () => cli.Console.WriteLine(described.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The document in clear, with who signed it (key ids instead of PEMs).</summary>
    private static JsonObject Describe(SignedTrust signed)
    {
        var document = TrustCodec.Parse(signed);
        return new JsonObject
        {
            ["version"] = document.Version,
            ["expires_at"] = document.ExpiresAt,
            ["threshold"] = document.Threshold,
            ["root_keys"] = new JsonArray([.. TrustCodec.KeyIdsOf(document.RootKeys).Select(id => (JsonNode?)id)]),
            ["signing_keys"] = new JsonArray([.. TrustCodec.KeyIdsOf(document.SigningKeys).Select(id => (JsonNode?)id)]),
            ["revoked_keys"] = new JsonArray([.. document.RevokedKeys.Select(id => (JsonNode?)id)]),
            ["floors"] = new JsonObject([.. document.Floors.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))]),
            ["signed_by"] = new JsonArray([.. signed.Signatures.Select(s => (JsonNode?)s.KeyId)]),
        };
    }

    private static string ReadFile(string path) => File.Exists(path) ? File.ReadAllText(path) : throw new IOException($"{path} does not exist");

    private static async Task<SignedTrust> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), PackageJsonContext.Default.SignedTrust)
                ?? throw new FormatException($"{path} is empty");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path} is not a signed trust document: {ex.Message}", ex);
        }
    }

    private static Task WriteAsync(string path, SignedTrust signed, CancellationToken cancellationToken) =>
        File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(signed, PackageJsonContext.Default.SignedTrust), cancellationToken);
}
