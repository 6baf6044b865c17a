namespace EdgeInference.Fleet.Api;

/// <summary>A rollout with what is computed from it: the targeted count, each assigned device's state, the history.</summary>
public sealed class RolloutView
{
    public RolloutSummary Rollout { get; set; } = new();

    public int Targeted { get; set; }

    /// <summary>Devices the current stage covers.</summary>
    public int StageDevices { get; set; }

    /// <summary>Devices per install state (<c>installed</c>, <c>failed</c>…).</summary>
    public Dictionary<string, int> Counts { get; set; } = new(StringComparer.Ordinal);

    public List<RolloutDeviceView> Devices { get; set; } = [];

    public List<RolloutEventView> Events { get; set; } = [];
}
