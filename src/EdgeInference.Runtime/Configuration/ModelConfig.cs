namespace EdgeInference.Runtime.Configuration;

/// <summary>
/// A model's optional <c>&lt;root&gt;/&lt;model&gt;/config.json</c>. Every section may be left out;
/// the defaults serve the latest version on the best execution provider, unbatched and uncached.
/// </summary>
public sealed class ModelConfig
{
    public VersionPolicyConfig? VersionPolicy { get; set; }

    /// <summary>Preference list, e.g. <c>["XNNPACK", "CPU"]</c>. Default: QNN, NNAPI, XNNPACK, CUDA, TensorRT, OpenVINO, CPU.</summary>
    public IList<string>? ExecutionProviders { get; set; }

    public BatchingConfig? Batching { get; set; }

    public WarmupConfig? Warmup { get; set; }

    public ThreadsConfig? Threads { get; set; }

    public CacheConfig? Cache { get; set; }
}
