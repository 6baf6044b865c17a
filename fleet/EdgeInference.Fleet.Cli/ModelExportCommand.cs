using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using EdgeInference.Packaging;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary>
/// <c>edgefleet models export NAME@VERSION --out PACKAGE.tar</c>: a pushed package, its signed manifest and its files
/// (each checked against the manifest), as an archive for local media that <c>edge-agent install</c> takes.
/// </summary>
internal static class ModelExportCommand
{
    public static Command Build(CliContext cli)
    {
        var which = new Argument<string>("NAME@VERSION");
        var output = new Option<string>("--out") { Description = "The archive to write (PACKAGE.tar), for edge-agent install on a device without the fleet", Required = true };
        var command = new Command("export", "Write a pushed package as an archive for local media (USB, a field laptop): edge-agent install PACKAGE.tar installs it");
        command.Arguments.Add(which);
        command.Options.Add(output);
        command.SetAction((parse, cancellationToken) => cli.RunAsync(async () =>
        {
            var (name, version) = ModelsCommands.NameAndVersion(parse.GetValue(which)!);
            var archive = Path.GetFullPath(parse.GetValue(output)!);
            using var client = cli.Client(parse);
            var package = await client.GetPackageAsync(name, version, cancellationToken).ConfigureAwait(false);
            var folder = Directory.CreateTempSubdirectory("edgefleet-export-").FullName;
            try
            {
                foreach (var file in package.Manifest.Files)
                {
                    var path = Path.Combine(folder, file.Path);
                    var downloaded = File.Create(path);
                    await using (downloaded.ConfigureAwait(false))
                    {
                        await client.DownloadFileAsync(name, version, file.Path, downloaded, cancellationToken).ConfigureAwait(false);
                        downloaded.Position = 0;
                        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(downloaded, cancellationToken).ConfigureAwait(false));
                        if (hash != file.Sha256 || downloaded.Length != file.Size)
                        {
                            throw new InvalidDataException($"the fleet's {file.Path} of {name} {version} is not the one its manifest signs (SHA-256 {hash})");
                        }
                    }
                }

                Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
                var partial = archive + ".partial";
                var written = File.Create(partial);
                await using (written.ConfigureAwait(false))
                {
                    await PackageArchive.WriteAsync(written, package.Signed, folder, cancellationToken).ConfigureAwait(false);
                    written.Flush(flushToDisk: true);
                }

                File.Move(partial, archive, overwrite: true);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }

            cli.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{archive}: {name} {version}, {package.Manifest.Files.Count} files, {new FileInfo(archive).Length:N0} bytes, signed by {package.Signed.Signature?.KeyId ?? "nobody"}; on the device: edge-agent install {Path.GetFileName(archive)}")));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
