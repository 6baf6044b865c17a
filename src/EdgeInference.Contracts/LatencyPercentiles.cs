namespace EdgeInference.Contracts;

/// <summary>Latency percentiles, estimated from histogram buckets as Prometheus' histogram_quantile does.</summary>
public sealed class LatencyPercentiles
{
    public double P50 { get; set; }

    public double P95 { get; set; }

    public double P99 { get; set; }
}
