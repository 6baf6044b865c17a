using System.Globalization;

namespace EdgeInference.Contracts;

/// <summary>What a <c>benchmark</c> command times: warm-up runs first, then the timed ones.</summary>
public sealed class BenchmarkCommand
{
    public int Iterations { get; set; } = 100;

    public int Warmup { get; set; } = 10;

    /// <summary>What is out of range, or null (the fleet and the device check the same rule).</summary>
    public string? Problem() =>
        Iterations is < 1 or > 100_000 || Warmup is < 0 or > 10_000
            ? string.Create(CultureInfo.InvariantCulture, $"a benchmark takes 1–100000 iterations and 0–10000 warm-up runs (got {Iterations} and {Warmup})")
            : null;
}
