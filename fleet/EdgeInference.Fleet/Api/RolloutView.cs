using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Api;

/// <summary>A rollout with what is computed from it: the targeted count, each assigned device's state, the history.</summary>
public sealed class RolloutView
{
    public RolloutRecord Rollout { get; set; } = new();

    public int Targeted { get; set; }

    /// <summary>Devices the current stage covers.</summary>
    public int StageDevices { get; set; }

    public Dictionary<string, int> Counts { get; set; } = new(StringComparer.Ordinal);

    public List<RolloutDevice> Devices { get; set; } = [];

    public List<RolloutEvent> Events { get; set; } = [];
}
