namespace EdgeInference.Runtime.Models;

/// <summary>A model in the repository and the versions it serves now (an immutable snapshot, highest first).</summary>
public sealed class ModelEntry
{
    private volatile ModelVersion[] _versions = [];

    public ModelEntry(string name)
    {
        Name = name;
    }

    public string Name { get; }

    /// <summary>Versions loaded or tried, highest first; failed ones say why.</summary>
    public IReadOnlyList<ModelVersion> Versions => _versions;

    /// <summary>Why the model's config.json cannot be used, if it cannot; the versions already loaded keep serving.</summary>
    public string? ConfigError { get; internal set; }

    /// <summary>The parsed config.json (defaults when there is none); null while it is invalid.</summary>
    internal Configuration.ModelConfig? Config { get; set; }

    /// <summary>The config file's size and time when <see cref="Config"/> was read.</summary>
    internal string? ConfigFingerprint { get; set; }

    /// <summary>Reloads of a serving version that failed, kept so they are not retried until their files change.</summary>
    internal Dictionary<long, ModelVersion> FailedReloads { get; } = [];

    /// <summary>The highest ready version, if any.</summary>
    public ModelVersion? Latest => _versions.FirstOrDefault(v => v.State == ModelVersionState.Ready);

    internal ModelVersion[] Snapshot => _versions;

    internal void Publish(ModelVersion[] versions) => _versions = versions;
}
