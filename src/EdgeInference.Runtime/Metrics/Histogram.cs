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

    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1) of observations whose cumulative bucket counts are
    /// <paramref name="cumulative"/>, interpolated linearly within the bucket as Prometheus' histogram_quantile
    /// does; the +Inf bucket answers with the highest bound. NaN without observations.
    /// </summary>
    public static double Quantile(IReadOnlyList<double> upperBounds, ReadOnlySpan<long> cumulative, double quantile)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        var total = cumulative.IsEmpty ? 0 : cumulative[^1];
        if (total == 0)
        {
            return double.NaN;
        }

        var rank = quantile * total;
        for (var i = 0; i < cumulative.Length; i++)
        {
            if (cumulative[i] >= rank)
            {
                if (i >= upperBounds.Count)
                {
                    return upperBounds[^1];
                }

                var below = i == 0 ? 0 : cumulative[i - 1];
                var lower = i == 0 ? 0 : upperBounds[i - 1];
                var inBucket = cumulative[i] - below;
                return inBucket == 0 ? upperBounds[i] : lower + ((upperBounds[i] - lower) * (rank - below) / inBucket);
            }
        }

        return upperBounds[^1];
    }
}
