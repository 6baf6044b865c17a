using System.Reflection;
using EdgeInference.Runtime.Models;

namespace EdgeInference.Agent.Hosting;

/// <summary>The agent's name and version, and the ONNX Runtime it runs, as reported by metadata and metrics.</summary>
public sealed class AgentInfo
{
    private readonly OnnxRuntimeEnvironment _onnxRuntime;

    public AgentInfo(TimeProvider time, OnnxRuntimeEnvironment onnxRuntime)
    {
        ArgumentNullException.ThrowIfNull(time);
        _onnxRuntime = onnxRuntime;
        StartedAt = time.GetUtcNow();
    }

    public string Name => "edge-agent";

    public string Version { get; } =
        typeof(AgentInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>ONNX Runtime's version; asking loads the native library (an agent with no models has not yet).</summary>
    public string OnnxRuntimeVersion => _onnxRuntime.Version;

    public DateTimeOffset StartedAt { get; }
}
