using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// Everything a rollout pass decides from, read before planning: the rollout, the devices its selector picks (in the
/// order stages take them), and every assigned device's state as its commands and registry entry say.
/// </summary>
internal sealed record RolloutSnapshot(RolloutRecord Rollout, IReadOnlyList<DeviceRecord> Targeted, IReadOnlyList<RolloutDevice> Devices);
