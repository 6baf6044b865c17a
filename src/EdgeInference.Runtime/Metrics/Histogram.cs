namespace EdgeInference.Runtime.Metrics;

/// <summary>A lock-free histogram with fixed upper bounds, in the shape Prometheus exposes (cumulative on read).</summary>
public sealed class Histogram
{
    private readonly long[] _counts;
    private long _count;
    private double _sum;

    public Histogram(double[] upperBounds)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        UpperBounds = upperBounds;
        _counts = new long[upperBounds.Length + 1];
    }

    /// <summary>Bucket upper bounds, ascending; an implicit +Inf bucket follows.</summary>
    public IReadOnlyList<double> UpperBounds { get; }

    public long Count => Interlocked.Read(ref _count);

    public double Sum => Volatile.Read(ref _sum);

    public void Observe(double value)
    {
        var bounds = (double[])UpperBounds;
        var i = 0;
        while (i < bounds.Length && value > bounds[i])
        {
            i++;
        }

        Interlocked.Increment(ref _counts[i]);
        Interlocked.Increment(ref _count);
        double current, updated;
        do
        {
            current = Volatile.Read(ref _sum);
            updated = current + value;
        }
        while (Interlocked.CompareExchange(ref _sum, updated, current) != current);
    }

    /// <summary>Cumulative counts per bucket, the last one being +Inf.</summary>
    public long[] CumulativeCounts()
    {
        var result = new long[_counts.Length];
        long running = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            result[i] = running;
        }

        return result;
    }
}
