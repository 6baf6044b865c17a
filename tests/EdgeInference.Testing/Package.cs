using EdgeInference.Packaging;

namespace EdgeInference.Testing;

/// <summary>A package built by a test: its manifest, how it is signed, and its files by role.</summary>
public sealed record Package(PackageManifest Manifest, SignedManifest Signed, IReadOnlyDictionary<string, string> Files)
{
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
