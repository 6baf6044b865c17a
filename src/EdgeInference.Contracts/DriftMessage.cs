namespace EdgeInference.Contracts;

/// <summary><c>edge/{deviceId}/drift</c>: one window of one model version's inputs and outputs, compared with its reference.</summary>
public sealed class DriftMessage
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public DateTimeOffset Timestamp { get; set; }

    public string DeviceId { get; set; } = "";

    public string Model { get; set; } = "";

    public long Version { get; set; }

    /// <summary>The semantic version of the package installed as this version, when it came from one.</summary>
    public string? PackageVersion { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    public DateTimeOffset WindowEnd { get; set; }

    /// <summary>Requests observed in the window.</summary>
    public long Requests { get; set; }

    /// <summary><c>profile</c> (the version's profile.json), <c>first_window</c> (learned after activation) or <c>none</c> (still learning).</summary>
    public string Reference { get; set; } = "none";

    /// <summary><c>scored</c>, <c>learning</c> (this window becomes the reference) or <c>insufficient</c> (too few samples to judge).</summary>
    public string State { get; set; } = "learning";

    /// <summary>True when any feature crossed a threshold in a window with enough samples.</summary>
    public bool Drift { get; set; }

    /// <summary>Why the version's profile.json was not used, when it exists but is unusable.</summary>
    public string? ProfileError { get; set; }

    public DriftThresholds Thresholds { get; set; } = new();

    public List<FeatureDrift> Features { get; set; } = [];
}
