using System.Runtime.InteropServices;
using System.IO.Hashing;
using System.Text;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// ONNX Runtime's optimized form of each model version, kept in a folder of the device's own (the agent's
/// <c>&lt;data&gt;/ortcache</c>): the first load saves it (ORT format, after every graph optimization) and later loads and
/// restarts load it instead of optimizing again. An entry is keyed by the model file (its full path, size and
/// modification time: the version's fingerprint), the ONNX Runtime version, the execution provider and this machine's
/// CPU, since an optimized graph depends on the CPU's features: an entry made elsewhere never matches, and the folder
/// is never shipped. Only CPU sessions are cached: other providers' compiled partitions cannot be saved.
/// </summary>
public sealed class OptimizedModelCache
{
    private readonly Lazy<string> _machine;

    /// <param name="folder">The cache's folder, created with the first entry.</param>
    /// <param name="onnxRuntimeVersion">Asked for with the first entry, so that ONNX Runtime loads only when a model does.</param>
    public OptimizedModelCache(string folder, Func<string> onnxRuntimeVersion)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(onnxRuntimeVersion);
        Folder = Path.GetFullPath(folder);
        _machine = new Lazy<string>(() => $"ort {onnxRuntimeVersion()}|{RuntimeInformation.ProcessArchitecture}|{CpuSignature()}");
    }

    public string Folder { get; }

    /// <summary>The entry for a version on <paramref name="provider"/>; null when that provider's sessions are not cached.</summary>
    public OptimizedModelEntry? EntryFor(string modelName, long version, string modelPath, string fingerprint, string provider)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        ArgumentNullException.ThrowIfNull(modelPath);
        if (provider != "CPU")
        {
            return null;
        }

        var key = $"{Path.GetFullPath(modelPath)}|{fingerprint}|{provider}|{_machine.Value}";
        // A name, not a seal (the folder is the agent's own): xxHash, so that loading a model never needs OpenSSL, which
        // a device image may not have (.NET's SHA-256 on Linux is OpenSSL's).
        var hash = Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(key)))[..24];
        // The model's name and version lead, so a new entry can remove the ones an older file of the same version left.
        var prefix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Safe(modelName)}-{version}-");
        return new OptimizedModelEntry(Folder, prefix, Path.Combine(Folder, prefix + hash + ".ort"));
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_'));

    /// <summary>What identifies this CPU's features: model and flags on x64, implementer, part and features on ARM.</summary>
    private static string CpuSignature()
    {
        try
        {
            var wanted = new[] { "model name", "flags", "Features", "CPU implementer", "CPU architecture", "CPU part" };
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() is var name && wanted.Contains(name, StringComparer.Ordinal))
                {
                    seen.TryAdd(name, line[(colon + 1)..].Trim());
                }
            }

            return string.Join('|', wanted.Select(w => seen.GetValueOrDefault(w, "")));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unknown cpu"; // entries made here still never match another machine's key: the folder is this device's
        }
    }
}
