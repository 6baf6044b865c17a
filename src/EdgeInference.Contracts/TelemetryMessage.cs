namespace EdgeInference.Contracts;

/// <summary><c>edge/{deviceId}/telemetry</c>: one window of serving, process and device figures.</summary>
public sealed class TelemetryMessage
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public DateTimeOffset Timestamp { get; set; }

    public string DeviceId { get; set; } = "";

    /// <summary>Seconds the window covers (since the previous telemetry message).</summary>
    public double WindowSeconds { get; set; }

    public List<ModelTelemetry> Models { get; set; } = [];

    public ProcessTelemetry Process { get; set; } = new();

    public DeviceTelemetry Device { get; set; } = new();

    public OutboxTelemetry Outbox { get; set; } = new();

    /// <summary>The configured sensors, their health and latest readings (absent when none is configured).</summary>
    public List<SensorStatus>? Sensors { get; set; }
}
