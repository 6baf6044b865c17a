using System.CommandLine;
using System.Text.Json.Nodes;
using EdgeInference.Packaging;
using EdgeInference.Storage;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet keys generate</c>: an ECDSA P-256 key pair for signing packages.</summary>
internal static class KeysCommands
{
    public static Command Build(CliContext cli)
    {
        var output = new Option<string>("--out") { Description = "Folder for the key files", DefaultValueFactory = _ => "." };
        var name = new Option<string>("--name") { Description = "Base name of the files (NAME.key.pem, NAME.pub.pem)", DefaultValueFactory = _ => "signing" };
        var generate = new Command("generate", "Create a signing key pair: the private key signs manifests, devices trust the public key");
        generate.Options.Add(output);
        generate.Options.Add(name);
        generate.SetAction((parse, cancellationToken) => cli.RunAsync(() =>
        {
            var folder = parse.GetValue(output)!;
            PrivateFiles.CreateDirectory(folder);
            var privatePath = Path.Combine(folder, parse.GetValue(name) + ".key.pem");
            var publicPath = Path.Combine(folder, parse.GetValue(name) + ".pub.pem");
            if (File.Exists(privatePath))
            {
                throw new IOException($"{privatePath} exists; pick another --name or --out");
            }

            using var key = SigningKey.Generate();
            PrivateFiles.WriteNew(privatePath, key.PrivateKeyPem());

            File.WriteAllText(publicPath, key.PublicKeyPem());
            cli.Print(parse, new JsonObject { ["key_id"] = key.KeyId, ["private_key"] = privatePath, ["public_key"] = publicPath }, () =>
            {
                cli.Console.MarkupLine($"Key [bold]{key.KeyId}[/]");
                cli.Console.MarkupLine($"  private: {Spectre.Console.Markup.Escape(privatePath)} (keep it secret; sign with --sign-key)");
                cli.Console.MarkupLine($"  public:  {Spectre.Console.Markup.Escape(publicPath)} (copy into each device's trusted keys folder)");
            });
            return Task.FromResult(ExitCodes.Ok);
        }));
        var keys = new Command("keys", "Signing keys");
        keys.Subcommands.Add(generate);
        return keys;
    }
}
