using EdgeInference.Contracts;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Runtime.Drift;

/// <summary>
/// A model version's drift profile from reference requests (<c>edge-agent profile</c>, <c>edgefleet models optimize</c>):
/// the version loaded from its repository as the agent loads it, every request run with the prediction cache off and
/// observed by the agent's own drift features.
/// </summary>
public static class DriftProfiler
{
    /// <param name="sources">The requests' names, in order.</param>
    /// <param name="read">Makes the request named by a source for the loaded version; it owns what it rents from the pool.</param>
    public static async Task<DriftProfile> BuildAsync(
        string models, string model, string? version, IReadOnlyList<string> sources, Func<string, ModelVersion, PinnedBufferPool, InferenceRequest> read,
        DriftOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(read);
        var pool = new PinnedBufferPool();
        var onnxRuntime = new OnnxRuntimeEnvironment();
        var context = new ModelRuntimeContext(pool, new ExecutionProviderSelector(onnxRuntime.AvailableProviders), time, NullLoggerFactory.Instance, onnxRuntime);
        using var repository = new ModelRepository(Path.GetFullPath(models), context);
        repository.Reconcile(model, cancellationToken);
        var served = repository.Acquire(model, version);
        try
        {
            served.DisableCache();
            var monitor = new ModelDriftMonitor(served, options, time);
            foreach (var source in sources)
            {
                try
                {
                    using var request = read(source, served, pool);
                    using var response = await served.InferAsync(request, cancellationToken).ConfigureAwait(false);
                    monitor.Observe(request.Inputs, response.Outputs);
                }
                catch (InferenceException ex)
                {
                    throw new FormatException($"{source}: {ex.Message}", ex);
                }
            }

            return monitor.BuildProfile();
        }
        finally
        {
            served.Release();
        }
    }
}
