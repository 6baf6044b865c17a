using EdgeInference.Packaging;

namespace EdgeInference.Testing;

/// <summary>A package built by a test: its manifest, how it is signed, and its files by role.</summary>
public sealed record Package(PackageManifest Manifest, SignedManifest Signed, IReadOnlyDictionary<string, string> Files)
{
    /// <summary>
    /// Builds a package of <paramref name="model"/> in a new folder under <paramref name="root"/>: manifest from the files,
    /// golden vectors computed by bare ONNX Runtime on <paramref name="goldenFrom"/> (so a model that differs from it fails
    /// them), signed by <paramref name="key"/> (null: unsigned), with the version's own <paramref name="config"/> if given.
    /// </summary>
    public static Package Build(string root, string name, string version, byte[] model, byte[]? goldenFrom, SigningKey? key, Action<PackageManifest>? edit = null, string? config = null)
    {
        var folder = Path.Combine(root, $"{name}-{version}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var files = new Dictionary<string, string> { [PackageRoles.Model] = Path.Combine(folder, "model.onnx") };
        File.WriteAllBytes(files[PackageRoles.Model], model);
        if (goldenFrom is not null)
        {
            files[PackageRoles.Golden] = Path.Combine(folder, "golden.json");
            File.WriteAllBytes(files[PackageRoles.Golden], FleetTestbed.GoldenVectors(goldenFrom, 3));
        }

        if (config is not null)
        {
            files[PackageRoles.Config] = Path.Combine(folder, "config.json");
            File.WriteAllText(files[PackageRoles.Config], config);
        }

        var manifest = EdgeInference.Fleet.Cli.ManifestBuilder.Build(name, version, files, DateTimeOffset.UtcNow);
        edit?.Invoke(manifest);
        var signed = key?.Sign(manifest) ?? new SignedManifest { Manifest = Convert.ToBase64String(ManifestCodec.Serialize(manifest)) };
        return new Package(manifest, signed, files);
    }

    /// <summary>Installs the package as version folder 1 of a model repository, as if a device had installed it.</summary>
    public void InstallAsFirstVersion(string models)
    {
        var folder = Path.Combine(models, Manifest.Name, "1");
        Directory.CreateDirectory(folder);
        foreach (var (role, path) in Files)
        {
            File.Copy(path, Path.Combine(folder, PackageRoles.FileNames[role]), overwrite: true);
        }

        File.WriteAllBytes(Path.Combine(folder, "manifest.json"), Convert.FromBase64String(Signed.Manifest));
    }
}
