namespace EdgeInference.Fleet.Api;

/// <summary><c>POST /api/v1/packages/{name}/{version}/benchmarks</c>: time a package on the devices a tag selector picks, without installing it.</summary>
public sealed class BenchmarkRequest
{
    /// <summary>Tag selector, <c>key=value,…</c> (all must match; empty: every enrolled device).</summary>
    public string Target { get; set; } = "";

    public int? Iterations { get; set; }

    public int? Warmup { get; set; }
}
