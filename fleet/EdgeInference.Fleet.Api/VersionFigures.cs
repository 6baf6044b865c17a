namespace EdgeInference.Fleet.Api;

/// <summary>One model version's serving figures on one device, summed over its telemetry windows.</summary>
public sealed class VersionFigures
{
    public long Requests { get; set; }

    public long Errors { get; set; }

    /// <summary>p95 latency (ms) of the latest window that had requests.</summary>
    public double? P95Ms { get; set; }

    public long Windows { get; set; }

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }
}
