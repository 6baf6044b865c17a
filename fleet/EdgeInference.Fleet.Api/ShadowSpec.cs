namespace EdgeInference.Fleet.Api;

/// <summary>A rollout's shadow mode: live requests each device's new version replays before switching, how long it waits, how close counts as agreeing.</summary>
public sealed class ShadowSpec
{
    public int Requests { get; set; }

    public TimeSpan Timeout { get; set; }

    public double Tolerance { get; set; }
}
