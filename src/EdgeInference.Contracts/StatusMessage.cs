namespace EdgeInference.Contracts;

/// <summary><c>edge/{deviceId}/status</c>, retained: what the device is and runs; <c>offline</c> comes from the last will.</summary>
public sealed class StatusMessage
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public DateTimeOffset Timestamp { get; set; }

    public string DeviceId { get; set; } = "";

    public ConnectionState State { get; set; }

    public string? AgentVersion { get; set; }

    public string? OnnxRuntimeVersion { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public double? UptimeSeconds { get; set; }

    public List<ModelStatus>? Models { get; set; }

    public HardwareInfo? Hardware { get; set; }

    /// <summary>The latest update of each model that had one.</summary>
    public List<UpdateStatus>? Updates { get; set; }

    /// <summary>The desired configuration the device last applied.</summary>
    public DesiredConfiguration? Configuration { get; set; }

    /// <summary>The version of the signed trust document the device holds (0: none, it trusts its configured keys).</summary>
    public long? TrustVersion { get; set; }

    /// <summary>The configured sensors and whether each answers (absent when none is configured).</summary>
    public List<SensorStatus>? Sensors { get; set; }
}
