using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// The last <see cref="WindowsKept"/> telemetry and drift windows of each device, in memory, for the
/// dashboard's charts (the store keeps the latest of each and the per-version sums the gates use).
/// </summary>
public sealed class TelemetryHistory : ITelemetryHistory
{
    public const int WindowsKept = 720;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (Queue<TelemetryMessage> Telemetry, Queue<DriftMessage> Drift)> _devices = new(StringComparer.Ordinal);

    public void Add(TelemetryMessage telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        lock (_lock)
        {
            Append(Of(telemetry.DeviceId).Telemetry, telemetry);
        }
    }

    public void Add(DriftMessage drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        lock (_lock)
        {
            Append(Of(drift.DeviceId).Drift, drift);
        }
    }

    public DeviceHistory Get(string deviceId)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(deviceId, out var history)
                ? new DeviceHistory { Telemetry = [.. history.Telemetry], Drift = [.. history.Drift] }
                : new DeviceHistory();
        }
    }

    private static void Append<T>(Queue<T> queue, T item)
    {
        queue.Enqueue(item);
        while (queue.Count > WindowsKept)
        {
            queue.Dequeue();
        }
    }

    private (Queue<TelemetryMessage> Telemetry, Queue<DriftMessage> Drift) Of(string deviceId)
    {
        if (!_devices.TryGetValue(deviceId, out var history))
        {
            _devices[deviceId] = history = (new Queue<TelemetryMessage>(), new Queue<DriftMessage>());
        }

        return history;
    }
}
