using System.Collections.Concurrent;
using System.Globalization;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Models;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// What is installed in the model repository: the version folders of each model and, for those that came from
/// a package, the manifest kept beside the model (<c>manifest.json</c>).
/// </summary>
public sealed class InstalledPackages
{
    public const string ManifestFileName = "manifest.json";
    public const string SignatureFileName = "signature.json";

    private readonly ConcurrentDictionary<string, (DateTime Written, string? Version)> _versions = new(StringComparer.Ordinal);

    public InstalledPackages(string modelsRoot)
    {
        Root = Path.GetFullPath(modelsRoot);
    }

    public string Root { get; }

    /// <summary>The version folders of <paramref name="model"/> holding a model file, ascending.</summary>
    public IReadOnlyList<long> Slots(string model)
    {
        var directory = Path.Combine(Root, model);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.EnumerateDirectories(directory)
            .Select(d => (Directory: d, Ok: long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var slot), Slot: slot))
            .Where(d => d.Ok && d.Slot > 0 && File.Exists(Path.Combine(d.Directory, ModelRepository.ModelFileName)))
            .Select(d => d.Slot)
            .Order()
            .ToArray();
    }

    /// <summary>The package version installed as <paramref name="slot"/>, or null when it did not come from a package.</summary>
    public string? VersionOf(string model, long slot)
    {
        var file = Path.Combine(Root, model, slot.ToString(CultureInfo.InvariantCulture), ManifestFileName);
        var info = new FileInfo(file);
        if (!info.Exists)
        {
            return null;
        }

        if (_versions.TryGetValue(file, out var cached) && cached.Written == info.LastWriteTimeUtc)
        {
            return cached.Version;
        }

        string? version;
        try
        {
            version = ManifestCodec.Parse(File.ReadAllBytes(file)).Version;
        }
        catch (Exception ex) when (ex is PackageRejectedException or IOException)
        {
            version = null;
        }

        _versions[file] = (info.LastWriteTimeUtc, version);
        return version;
    }

    /// <summary>The package version the model serves (its highest version folder) as written, or null.</summary>
    public string? ServingVersionText(string model)
    {
        var slots = Slots(model);
        return slots.Count > 0 ? VersionOf(model, slots[^1]) : null;
    }

    /// <summary>The package version the model serves, or null.</summary>
    public SemanticVersion? ServingVersion(string model) => SemanticVersion.TryParse(ServingVersionText(model), out var version) ? version : null;
}
