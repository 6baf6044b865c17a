using System.Collections.Concurrent;
using System.Globalization;
using EdgeInference.Runtime.Configuration;
using EdgeInference.Runtime.Inference;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// The models served from a repository laid out <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c>.
/// <see cref="Reconcile"/> compares what is on disk with what is loaded and closes the gap: new versions
/// are loaded and warmed before they are published; replaced and removed ones are retired, finishing the
/// requests they already have. A version that fails to load never replaces a serving one.
/// </summary>
public sealed class ModelRepository : IDisposable
{
    public const string ModelFileName = "model.onnx";

    private readonly ConcurrentDictionary<string, ModelEntry> _models = new(StringComparer.Ordinal);
    private readonly ModelRuntimeContext _context;
    private readonly ILogger _logger;
    private readonly Lock _reconcileLock = new();
    private volatile bool _initialized;

    public ModelRepository(string root, ModelRuntimeContext context)
    {
        Root = root;
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _logger = context.LoggerFactory.CreateLogger<ModelRepository>();
    }

    public string Root { get; }

    /// <summary>Whether the first pass over the repository has finished (every model loaded or failed).</summary>
    public bool IsInitialized => _initialized;

    public IReadOnlyList<ModelEntry> Models => _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();

    public ModelEntry? Find(string name) => _models.GetValueOrDefault(name);

    /// <summary>
    /// A ready version for one request: the given one, or the highest ready one. The caller must
    /// <see cref="ModelVersion.Release"/> it. Throws <see cref="InferenceException"/> naming what is missing.
    /// </summary>
    public ModelVersion Acquire(string name, string? version)
    {
        if (!_models.TryGetValue(name, out var entry))
        {
            throw new InferenceException(InferenceErrorKind.NotFound, $"model '{name}' is not in the repository");
        }

        var versions = entry.Snapshot;
        if (string.IsNullOrEmpty(version))
        {
            foreach (var candidate in versions)
            {
                if (candidate.TryAcquire())
                {
                    return candidate;
                }
            }

            throw new InferenceException(InferenceErrorKind.Unavailable, $"model '{name}' has no ready version{Reasons(versions)}");
        }

        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new InferenceException(InferenceErrorKind.NotFound, $"model '{name}' has no version '{version}': versions are positive integers");
        }

        // A loop, not Array.Find: a lambda capturing the number would allocate its closure on every call, this path or not.
        ModelVersion? match = null;
        foreach (var candidate in versions)
        {
            if (candidate.Version == number)
            {
                match = candidate;
                break;
            }
        }

        if (match is null)
        {
            throw new InferenceException(InferenceErrorKind.NotFound, $"model '{name}' has no version {number}");
        }

        if (!match.TryAcquire())
        {
            throw new InferenceException(InferenceErrorKind.Unavailable, $"model '{name}' version {number} is not ready{Reasons([match])}");
        }

        return match;
    }

    /// <summary>Brings the loaded models in line with the repository on disk.</summary>
    public void Reconcile(CancellationToken cancellationToken = default)
    {
        lock (_reconcileLock)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            if (Directory.Exists(Root))
            {
                foreach (var directory in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var name = Path.GetFileName(directory);
                    if (name.StartsWith('.'))
                    {
                        continue;
                    }

                    seen.Add(name);
                    ReconcileModel(name, directory, cancellationToken);
                }
            }

            foreach (var (name, entry) in _models)
            {
                if (!seen.Contains(name) && _models.TryRemove(name, out _))
                {
                    RetireAll(entry.Snapshot);
                }
            }

            _initialized = true;
        }
    }

    /// <summary>Loads only the model <paramref name="name"/> (for tools that need one model, not the whole repository).</summary>
    public void Reconcile(string name, CancellationToken cancellationToken = default)
    {
        lock (_reconcileLock)
        {
            var directory = Path.Combine(Root, name);
            if (!Directory.Exists(directory))
            {
                throw new DirectoryNotFoundException($"there is no model '{name}' in {Root}");
            }

            ReconcileModel(name, directory, cancellationToken);
        }
    }

    public void Dispose()
    {
        foreach (var entry in _models.Values)
        {
            RetireAll(entry.Snapshot);
        }

        _models.Clear();
    }

    private static string Reasons(IEnumerable<ModelVersion> versions)
    {
        var reasons = versions.Select(v => v.Error is null ? $"version {v.Version} is {v.State.ToString().ToLowerInvariant()}" : $"version {v.Version}: {v.Error}").ToArray();
        return reasons.Length == 0 ? "" : " (" + string.Join("; ", reasons) + ")";
    }

    /// <summary>Size and modification time of a file (one stat), or null when it does not exist.</summary>
    private static string? Fingerprint(string file)
    {
        var info = new FileInfo(file);
        return info.Exists ? FormattableString.Invariant($"{info.Length}@{info.LastWriteTimeUtc.Ticks}") : null;
    }

    private static IEnumerable<long> ApplyPolicy(VersionPolicyConfig? policy, IEnumerable<long> versions)
    {
        var descending = versions.OrderDescending();
        return policy switch
        {
            { All: true } => descending,
            { Specific: { } specific } => descending.Where(specific.Contains),
            _ => descending.Take(policy?.Latest ?? 1),
        };
    }

    private void ReconcileModel(string name, string directory, CancellationToken cancellationToken)
    {
        var entry = _models.GetOrAdd(name, static n => new ModelEntry(n));
        var configFingerprint = Fingerprint(Path.Combine(directory, ModelConfigReader.FileName)) ?? "none";
        var onDisk = new Dictionary<long, (string File, string Fingerprint)>();
        var preference = _context.Providers.PreferenceKey;
        foreach (var versionDirectory in Directory.EnumerateDirectories(directory))
        {
            var file = Path.Combine(versionDirectory, ModelFileName);
            if (long.TryParse(Path.GetFileName(versionDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                && version > 0 && Fingerprint(file) is { } fingerprint)
            {
                var versionConfig = Fingerprint(Path.Combine(versionDirectory, ModelConfigReader.FileName)) ?? "none";
                onDisk[version] = (file, $"{fingerprint}|{configFingerprint}|{versionConfig}|{preference}");
            }
        }

        // The config is read and checked again only when its file changes.
        if (entry.ConfigFingerprint != configFingerprint)
        {
            entry.ConfigFingerprint = configFingerprint;
            try
            {
                entry.Config = ModelConfigReader.Read(directory);
                entry.ConfigError = null;
            }
            catch (Exception ex) when (ex is ModelConfigException or IOException)
            {
                RuntimeLog.ConfigInvalid(_logger, name, ex.Message);
                entry.Config = null;
                entry.ConfigError = ex.Message;
            }
        }

        if (entry.Config is not { } config)
        {
            var kept = entry.Snapshot.Where(v => onDisk.ContainsKey(v.Version)).ToArray();
            RetireAll(entry.Snapshot.Except(kept));
            entry.Publish(kept);
            return;
        }

        var current = entry.Snapshot;
        var next = new List<ModelVersion>();
        var retire = new List<ModelVersion>();
        foreach (var version in ApplyPolicy(config.VersionPolicy, onDisk.Keys))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (file, fingerprint) = onDisk[version];
            var existing = Array.Find(current, v => v.Version == version);
            if (existing?.Fingerprint == fingerprint)
            {
                next.Add(existing);
                continue;
            }

            if (existing is { State: ModelVersionState.Ready } && entry.FailedReloads.TryGetValue(version, out var failedBefore) && failedBefore.Fingerprint == fingerprint)
            {
                next.Add(existing);
                continue;
            }

            var loaded = Load(name, version, file, fingerprint, config);
            if (loaded.State != ModelVersionState.Ready && existing is { State: ModelVersionState.Ready })
            {
                RuntimeLog.ReloadFailed(_logger, name, version, loaded.Error);
                entry.FailedReloads[version] = loaded;
                next.Add(existing);
                continue;
            }

            entry.FailedReloads.Remove(version);
            next.Add(loaded);
            if (existing is not null)
            {
                retire.Add(existing);
            }
        }

        var anyReady = next.Any(v => v.State == ModelVersionState.Ready);
        foreach (var old in current)
        {
            if (next.Contains(old) || retire.Contains(old))
            {
                continue;
            }

            // Keep a serving version that the policy no longer wants until a wanted one is ready.
            if (!anyReady && old.State == ModelVersionState.Ready && onDisk.ContainsKey(old.Version))
            {
                next.Add(old);
            }
            else
            {
                retire.Add(old);
            }
        }

        entry.Publish(next.OrderByDescending(v => v.Version).ToArray());
        RetireAll(retire);
    }

    private ModelVersion Load(string name, long version, string file, string fingerprint, ModelConfig config)
    {
        var started = _context.Time.GetTimestamp();
        ModelVersion loaded;
        try
        {
            // A version may carry its own config (a package's config.json), which replaces the model's for it.
            var versionDirectory = Path.GetDirectoryName(file)!;
            if (File.Exists(Path.Combine(versionDirectory, ModelConfigReader.FileName)))
            {
                config = ModelConfigReader.Read(versionDirectory);
            }

            loaded = ModelVersion.Load(_context, name, version, file, fingerprint, config);
        }
        catch (Exception ex) when (ex is ModelConfigException or IOException)
        {
            loaded = ModelVersion.Failed(_context, name, version, fingerprint, ex.Message);
        }

        if (loaded.State == ModelVersionState.Ready)
        {
            RuntimeLog.VersionReady(_logger, name, version, loaded.ExecutionProvider, (long)_context.Time.GetElapsedTime(started).TotalMilliseconds);
            foreach (var note in loaded.Notes)
            {
                RuntimeLog.VersionNote(_logger, name, version, note);
            }
        }
        else
        {
            RuntimeLog.VersionFailed(_logger, name, version, loaded.Error);
        }

        return loaded;
    }

    private void RetireAll(IEnumerable<ModelVersion> versions)
    {
        foreach (var version in versions)
        {
            if (version.State != ModelVersionState.Failed)
            {
                RuntimeLog.VersionRetired(_logger, version.ModelName, version.Version);
            }

            version.Retire();
        }
    }
}
