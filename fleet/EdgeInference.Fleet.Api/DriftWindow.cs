namespace EdgeInference.Fleet.Api;

/// <summary>The latest drift window of one model version on one device.</summary>
public sealed class DriftWindow
{
    public bool Drifted { get; set; }

    public List<string> Features { get; set; } = [];

    public double? MaxPsi { get; set; }

    public long Requests { get; set; }

    public DateTimeOffset At { get; set; }
}
