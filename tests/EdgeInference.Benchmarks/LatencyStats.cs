using System.Diagnostics;

namespace EdgeInference.Benchmarks;

/// <summary>Per-call latencies in microseconds, and their percentiles.</summary>
internal sealed class LatencyStats
{
    private readonly double[] _micros;

    private LatencyStats(double[] micros)
    {
        Array.Sort(micros);
        _micros = micros;
    }

    public double P50 => Percentile(0.50);

    public double P99 => Percentile(0.99);

    /// <summary>Latencies measured elsewhere (an external client's log), in microseconds.</summary>
    public static LatencyStats Of(double[] micros) => new(micros);

    public static async Task<LatencyStats> MeasureAsync(int warmup, int count, Func<Task> call)
    {
        for (var i = 0; i < warmup; i++)
        {
            await call();
        }

        var micros = new double[count];
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        return new LatencyStats(micros);
    }

    private double Percentile(double p) => _micros[Math.Min(_micros.Length - 1, (int)(p * _micros.Length))];
}
