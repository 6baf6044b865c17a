using System.Security.Cryptography;
using EdgeInference.Packaging;

namespace EdgeInference.Fleet.Packages;

/// <summary>Package files on disk: <c>&lt;data&gt;/packages/&lt;name&gt;/&lt;version&gt;/&lt;file&gt;</c>, uploaded one by one, then sealed by the manifest.</summary>
public sealed class PackageFiles
{
    public PackageFiles(string dataDirectory)
    {
        Root = Path.Combine(Path.GetFullPath(dataDirectory), "packages");
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Checks the three names that make a path; returns the problem, or null.</summary>
    public static string? Problem(string name, string version, string? file)
    {
        if (!ManifestCodec.IsValidName(name))
        {
            return $"'{name}' is not a model name (letters, digits, '.', '_', '-')";
        }

        if (!SemanticVersion.TryParse(version, out _))
        {
            return $"'{version}' is not a semantic version (e.g. 2.0.0)";
        }

        if (file is not null && !PackageRoles.FileNames.Values.Contains(file))
        {
            return $"'{file}' is not a package file ({string.Join(", ", PackageRoles.FileNames.Values)})";
        }

        return null;
    }

    public string PathOf(string name, string version, string file) => Path.Combine(Root, name, version, file);

    /// <summary>Writes an upload, refusing more than <paramref name="maxBytes"/>; returns its size.</summary>
    public async Task<long> SaveAsync(string name, string version, string file, Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var path = PathOf(name, version, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = path + ".uploading";
        long total = 0;
        await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    throw new InvalidDataException($"{file} is larger than the {maxBytes} bytes a package file may have");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            output.Flush(flushToDisk: true);
        }

        File.Move(partial, path, overwrite: true);
        return total;
    }

    /// <summary>Checks every file the manifest lists against what was uploaded; returns the problems.</summary>
    public async Task<List<string>> CheckAsync(PackageManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var problems = new List<string>();
        foreach (var file in manifest.Files)
        {
            var path = PathOf(manifest.Name, manifest.Version, file.Path);
            if (!File.Exists(path))
            {
                problems.Add($"{file.Path} was not uploaded");
                continue;
            }

            await using var stream = File.OpenRead(path);
            if (stream.Length != file.Size)
            {
                problems.Add($"{file.Path} is {stream.Length} bytes; the manifest says {file.Size}");
                continue;
            }

            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            if (hash != file.Sha256)
            {
                problems.Add($"{file.Path} has SHA-256 {hash}; the manifest says {file.Sha256}");
            }
        }

        return problems;
    }
}
