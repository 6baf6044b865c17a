using EdgeInference.Contracts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>One assigned device of a rollout with the state computed from its commands and its registry entry.</summary>
public sealed class RolloutDevice
{
    public string DeviceId { get; set; } = "";

    public int Stage { get; set; }

    /// <summary>See <see cref="InstallState"/>.</summary>
    public InstallState State { get; set; } = InstallState.Pending;

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public bool Online { get; set; }

    public string? ServingVersion { get; set; }

    public string? PreviousVersion { get; set; }

    public int? GoldenPassed { get; set; }

    public int? GoldenTotal { get; set; }

    public double? ShadowAgreement { get; set; }

    /// <summary>Live requests the device's new version replayed in shadow mode.</summary>
    public int? ShadowRequests { get; set; }

    /// <summary>The p95 of the on-device benchmark the rollout ran before the deploy (<c>bench_p95_ms</c> gates).</summary>
    public double? BenchmarkP95Ms { get; set; }

    internal RolloutAssignment? Assignment { get; set; }

    /// <summary>Whether the benchmark the rollout sent first succeeded within its gates (the deploy may go).</summary>
    internal bool BenchmarkPassed { get; set; }

    /// <summary>Whether the rollback the rollout sent this device has had its final reply.</summary>
    internal bool RollbackFinal { get; set; }

    internal DeviceRecord? Device { get; set; }
}
