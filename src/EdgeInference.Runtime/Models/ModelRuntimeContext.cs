using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Runtime.Models;

/// <summary>What every model version shares: the buffer pool, the provider selector, time and logging.</summary>
public sealed class ModelRuntimeContext
{
    public ModelRuntimeContext(PinnedBufferPool pool, ExecutionProviderSelector providers, TimeProvider time, ILoggerFactory loggerFactory, OnnxRuntimeEnvironment? environment = null)
    {
        Pool = pool;
        Providers = providers;
        Environment = environment;
        Time = time;
        LoggerFactory = loggerFactory;
    }

    public PinnedBufferPool Pool { get; }

    /// <summary>The shared-thread-pool environment; null when each session keeps its own threads.</summary>
    public OnnxRuntimeEnvironment? Environment { get; }

    public ExecutionProviderSelector Providers { get; }

    public TimeProvider Time { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Where loads keep and find ONNX Runtime's optimized models; null: every load optimizes afresh.</summary>
    public OptimizedModelCache? OptimizedModels { get; init; }
}
