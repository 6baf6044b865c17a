using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// Everything a rollout pass decides from, read before planning: the rollout, the devices its selector picks (in the
/// order stages take them), and every assigned device (its row in <c>rollout_devices</c>) with its state as its commands
/// and registry entry say.
/// </summary>
internal sealed record RolloutSnapshot(RolloutRecord Rollout, IReadOnlyList<DeviceRecord> Targeted, IReadOnlyList<RolloutDevice> Devices)
{
    /// <summary>The devices the rollout has rows for, by id.</summary>
    public IReadOnlyDictionary<string, RolloutDevice> Assigned { get; } = Devices.ToDictionary(d => d.DeviceId, StringComparer.Ordinal);
}
