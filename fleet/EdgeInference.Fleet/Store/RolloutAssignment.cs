using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Store;

/// <summary>
/// A rollout's row for one device it gave its version to (<c>rollout_devices</c>, keyed by rollout and device): a pass
/// reads a rollout's rows in one query and writes only the rows it changes.
/// </summary>
public sealed class RolloutAssignment
{
    public string RolloutId { get; set; } = "";

    public string DeviceId { get; set; } = "";

    public int Stage { get; set; }

    /// <summary>The install's state as the last pass computed it from the commands (<see cref="InstallState"/>).</summary>
    public InstallState State { get; set; } = InstallState.Pending;

    /// <summary>The deploy command that installs the version (its state is the install's); empty when the device already served it.</summary>
    public string CommandId { get; set; } = "";

    /// <summary>The version the device served before, which a rollback returns it to.</summary>
    public string? PreviousVersion { get; set; }

    /// <summary>
    /// The benchmark command a rollout gated on <c>bench_p95_ms</c> sends before the deploy (null otherwise); the deploy
    /// (<see cref="CommandId"/>) follows only when its figures pass.
    /// </summary>
    public string? BenchmarkCommandId { get; set; }

    /// <summary>The rollback command, once the rollout rolled back.</summary>
    public string? RollbackCommandId { get; set; }

    public DateTimeOffset AssignedAt { get; set; }
}
