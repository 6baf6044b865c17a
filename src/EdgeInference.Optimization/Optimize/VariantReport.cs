using EdgeInference.Optimization.Verification;

namespace EdgeInference.Optimization.Optimize;

/// <summary>One variant <c>models optimize</c> tried: its size, its speed against float, its accuracy, and the verdict.</summary>
public sealed class VariantReport
{
    public string Name { get; set; } = "";

    public long Bytes { get; set; }

    public double SizeRatio { get; set; }

    /// <summary>Median time of one run, one thread, on the first held-out input.</summary>
    public double LatencyMicroseconds { get; set; }

    /// <summary>Float latency over this variant's: above 1 is faster.</summary>
    public double Speedup { get; set; }

    public int QuantizedNodes { get; set; }

    public VerificationReport Verification { get; set; } = new();

    /// <summary>Whether it may be kept: every gate holds and it is not slower than float.</summary>
    public bool Passed { get; set; }

    /// <summary>Why it may not be kept, in words with the numbers; null when it passed.</summary>
    public string? Failure { get; set; }
}
