namespace EdgeInference.Runtime.Metrics;

/// <summary>Counters of one model version, read by the Prometheus endpoint and by telemetry.</summary>
public sealed class ModelMetrics
{
    /// <summary>Latency bucket bounds in seconds, 50 µs to 10 s.</summary>
    public static readonly double[] LatencyBounds =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static readonly double[] BatchSizeBounds = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private long _requests;
    private long _errors;
    private long _cacheHits;
    private long _cacheMisses;
    private long _queueDepth;

    public long Requests => Interlocked.Read(ref _requests);

    public long Errors => Interlocked.Read(ref _errors);

    public long CacheHits => Interlocked.Read(ref _cacheHits);

    public long CacheMisses => Interlocked.Read(ref _cacheMisses);

    /// <summary>Requests waiting for a batch slot now.</summary>
    public long QueueDepth => Interlocked.Read(ref _queueDepth);

    /// <summary>Request latency in seconds, queueing included.</summary>
    public Histogram Latency { get; } = new(LatencyBounds);

    /// <summary>Rows per ONNX Runtime run.</summary>
    public Histogram BatchSize { get; } = new(BatchSizeBounds);

    public void RecordRequest(double seconds, bool failed)
    {
        Interlocked.Increment(ref _requests);
        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }
        else
        {
            Latency.Observe(seconds);
        }
    }

    public void RecordCache(bool hit) => Interlocked.Increment(ref hit ? ref _cacheHits : ref _cacheMisses);

    public void AdjustQueueDepth(int delta) => Interlocked.Add(ref _queueDepth, delta);
}
