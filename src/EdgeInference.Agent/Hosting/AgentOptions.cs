using EdgeInference.Agent.PredictionLog;

namespace EdgeInference.Agent.Hosting;

/// <summary>
/// The agent's settings, section <c>Agent</c>: a JSON file (<c>--config</c>), then <c>EDGE_AGENT_</c>
/// environment variables (<c>EDGE_AGENT_Agent__Models</c>), then the command line (<c>--models</c>).
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The model repository: <c>&lt;models&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c>.</summary>
    public string Models { get; set; } = "";

    /// <summary>Where the agent keeps its state (the prediction log).</summary>
    public string Data { get; set; } = "";

    /// <summary>HTTP listen addresses, separated by ';': <c>http://127.0.0.1:8000</c>, <c>http://unix:/run/edge-agent/http.sock</c>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8000";

    /// <summary>gRPC listen address: <c>127.0.0.1:8001</c> or <c>unix:/run/edge-agent/grpc.sock</c>; empty turns gRPC off.</summary>
    public string? Grpc { get; set; }

    /// <summary>How often the model repository is checked for new, changed and removed versions.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Request bodies over this many bytes are refused with 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L << 20;

    /// <summary>How long SIGTERM waits for requests in flight before stopping.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Keep ONNX Runtime's optimized form of each model in <c>&lt;data&gt;/ortcache</c> and load it instead of optimizing
    /// again at every load and restart (CPU sessions; keyed by the model file, ONNX Runtime's version and this CPU).
    /// </summary>
    public bool OptimizedModelCache { get; set; } = true;

    public PredictionLogOptions PredictionLog { get; set; } = new();
}
