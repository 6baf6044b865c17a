namespace EdgeInference.Fleet.Store;

/// <summary>What a gate can measure on the devices a rollout updated.</summary>
public static class GateMetrics
{
    /// <summary>Share of finished installs that succeeded.</summary>
    public const string InstallRate = "install_rate";

    /// <summary>Share of golden vectors that passed, over every updated device.</summary>
    public const string GoldenRate = "golden_rate";

    /// <summary>Failed requests over requests on the new version.</summary>
    public const string ErrorRate = "error_rate";

    /// <summary>The new version's p95 latency over the previous version's on the same devices (or over the rest of the fleet).</summary>
    public const string P95Ratio = "p95_ratio";

    /// <summary>Share of updated devices whose latest drift window on the new version is flagged.</summary>
    public const string DriftRate = "drift_rate";

    /// <summary>Mean shadow-mode agreement with the previous version.</summary>
    public const string Agreement = "agreement";

    /// <summary>
    /// The slowest p95, in milliseconds, of the on-device benchmarks the rollout ran: with this gate each device a stage
    /// takes first times the package beside what it serves, and switches only when its own p95 is within the threshold.
    /// </summary>
    public const string BenchP95Ms = "bench_p95_ms";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { InstallRate, GoldenRate, ErrorRate, P95Ratio, DriftRate, Agreement, BenchP95Ms };
}
