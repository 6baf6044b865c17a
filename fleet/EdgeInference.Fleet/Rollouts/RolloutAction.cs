using EdgeInference.Contracts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// One step of a <see cref="RolloutPlanner"/>'s plan, which <see cref="RolloutEngine"/> carries out in order (the
/// planner decides, the engine only writes). A closed set: the engine handles each kind.
/// </summary>
internal abstract record RolloutAction
{
    private RolloutAction()
    {
    }

    /// <summary>Give the version to a device at the current stage; with <paramref name="Deploy"/>, send it a deploy command.</summary>
    public sealed record Assign(string DeviceId, string? PreviousVersion, bool Deploy) : RolloutAction;

    /// <summary>
    /// Give the version to a device at the current stage and send it a benchmark command first: the rollout gates on
    /// <c>bench_p95_ms</c>, and the deploy waits for the device's figures.
    /// </summary>
    public sealed record AssignBenchmark(string DeviceId, string? PreviousVersion) : RolloutAction;

    /// <summary>Send the deploy to a device whose benchmark passed.</summary>
    public sealed record SendDeploy(string DeviceId) : RolloutAction;

    /// <summary>Send the device a rollback to the version it had.</summary>
    public sealed record RollBackDevice(string DeviceId) : RolloutAction;

    /// <summary>Withdraw every deploy command no device has answered, so nothing more installs the version.</summary>
    public sealed record CancelUnsent : RolloutAction;

    /// <summary>The latest measurement of the gates, and when the stage settled (null: not settled).</summary>
    public sealed record Measure(List<GateResult> Gates, DateTimeOffset? SettledAt) : RolloutAction;

    /// <summary>Move to <paramref name="State"/>, recording an event of <paramref name="Kind"/>.</summary>
    public sealed record Transition(RolloutState State, string Kind, string Message) : RolloutAction;

    /// <summary>Go on to the next stage, or complete after the last.</summary>
    public sealed record Advance(string Kind, string Message) : RolloutAction;
}
