using System.Globalization;

namespace EdgeInference.Benchmarks;

/// <summary>Values read from the agent's Prometheus text (<c>/metrics</c>).</summary>
internal static class AgentMetrics
{
    public static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').First(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>The agent's own request time (request in to prediction recorded) for a model: sum in seconds and count.</summary>
    public static (double Sum, double Count) RequestDuration(string metrics, string model) =>
        (Value(metrics, $"edge_model_request_duration_seconds_sum{{model=\"{model}\",version=\"1\"}}"),
            Value(metrics, $"edge_model_request_duration_seconds_count{{model=\"{model}\",version=\"1\"}}"));

    public static double AllocatedBytes(string metrics) => Value(metrics, "dotnet_gc_allocated_bytes_total");
}
