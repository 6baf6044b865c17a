using System.Reflection;

namespace EdgeInference.Agent.Hosting;

/// <summary>The agent's name and version, and the ONNX Runtime it runs, as reported by metadata and metrics.</summary>
public sealed class AgentInfo
{
    private readonly Lazy<string> _onnxRuntimeVersion = new(() => Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString());

    public AgentInfo(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        StartedAt = time.GetUtcNow();
    }

    public string Name => "edge-agent";

    public string Version { get; } =
        typeof(AgentInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>ONNX Runtime's version; asking loads the native library (an agent with no models has not yet).</summary>
    public string OnnxRuntimeVersion => _onnxRuntimeVersion.Value;

    public DateTimeOffset StartedAt { get; }
}
