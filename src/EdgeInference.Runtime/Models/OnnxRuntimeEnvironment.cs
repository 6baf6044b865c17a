using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// The process's ONNX Runtime environment, created on first use (so an agent with no models never loads
/// the native library) with one global thread pool that every session shares: one set of worker threads
/// for all models instead of a pool per session, and no spinning, so idle models cost no CPU.
/// </summary>
public sealed class OnnxRuntimeEnvironment
{
    private readonly Lazy<(OrtEnv Env, bool Shared)> _env;

    public OnnxRuntimeEnvironment()
    {
        _env = new Lazy<(OrtEnv, bool)>(() =>
        {
            using var threads = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = Environment.ProcessorCount,
                GlobalInterOpNumThreads = 1,
                GlobalSpinControl = false,
            };
            var options = new EnvironmentCreationOptions { threadOptions = threads, logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            try
            {
                return (OrtEnv.CreateInstanceWithOptions(ref options), true);
            }
            catch (OnnxRuntimeException)
            {
                // Something in this process (a host of tests, say) made the environment first: sessions keep their own threads.
                return (OrtEnv.Instance(), false);
            }
        });
    }

    public OrtEnv Env => _env.Value.Env;

    /// <summary>Whether sessions can use the global thread pool (<c>DisablePerSessionThreads</c>).</summary>
    public bool HasGlobalThreadPool => _env.Value.Shared;

    public string Version => Env.GetVersionString();

    public IEnumerable<string> AvailableProviders() => Env.GetAvailableProviders();
}
