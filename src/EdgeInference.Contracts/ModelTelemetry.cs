namespace EdgeInference.Contracts;

/// <summary>One model version's serving figures over a telemetry window.</summary>
public sealed class ModelTelemetry
{
    public string Model { get; set; } = "";

    public long Version { get; set; }

    /// <summary>The semantic version of the package installed as this version, when it came from one.</summary>
    public string? PackageVersion { get; set; }

    public string ExecutionProvider { get; set; } = "";

    /// <summary>Requests in the window, failed ones included.</summary>
    public long Requests { get; set; }

    /// <summary>Failed requests in the window.</summary>
    public long Errors { get; set; }

    public long RequestsTotal { get; set; }

    public long ErrorsTotal { get; set; }

    /// <summary>Requests per second over the window.</summary>
    public double Throughput { get; set; }

    /// <summary>Latency percentiles of the window's successful requests, in milliseconds (null without any).</summary>
    public LatencyPercentiles? LatencyMs { get; set; }

    /// <summary>Mean rows per ONNX Runtime run in the window (null without runs).</summary>
    public double? BatchSizeMean { get; set; }

    /// <summary>Share of cache lookups that hit in the window (null when the cache is off or unused).</summary>
    public double? CacheHitRate { get; set; }

    public long QueueDepth { get; set; }
}
