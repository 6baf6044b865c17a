using System.Reflection;

namespace EdgeInference.Agent.Hosting;

/// <summary>The agent's name and version, and the ONNX Runtime it runs, as reported by metadata and metrics.</summary>
public sealed class AgentInfo
{
    public AgentInfo(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        StartedAt = time.GetUtcNow();
        OnnxRuntimeVersion = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
    }

    public string Name => "edge-agent";

    public string Version { get; } =
        typeof(AgentInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public string OnnxRuntimeVersion { get; }

    public DateTimeOffset StartedAt { get; }
}
