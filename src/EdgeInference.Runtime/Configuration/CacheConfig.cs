namespace EdgeInference.Runtime.Configuration;

/// <summary>An LRU cache of predictions keyed by a hash of the model version and the input bytes.</summary>
public sealed class CacheConfig
{
    public bool Enabled { get; set; }

    public int MaxEntries { get; set; } = 1024;

    /// <summary>Bytes of cached outputs at most.</summary>
    public long MaxBytes { get; set; } = 16L << 20;
}
