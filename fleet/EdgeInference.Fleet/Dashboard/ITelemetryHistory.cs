using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// Each device's recent telemetry and drift windows, for the dashboard's charts: in memory with one process
/// (<see cref="TelemetryHistory"/>), in PostgreSQL with replicas (<see cref="PostgresTelemetryHistory"/>), where they
/// survive restarts and every replica sees every window.
/// </summary>
public interface ITelemetryHistory
{
    void Add(TelemetryMessage telemetry);

    void Add(DriftMessage drift);

    /// <summary>The device's last <see cref="TelemetryHistory.WindowsKept"/> windows of each kind, oldest first.</summary>
    DeviceHistory Get(string deviceId);
}
