using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>A device's recent telemetry and drift windows, oldest first (<c>GET /api/v1/devices/{id}/history</c>).</summary>
public sealed class DeviceHistory
{
    public List<TelemetryMessage> Telemetry { get; set; } = [];

    public List<DriftMessage> Drift { get; set; } = [];
}
