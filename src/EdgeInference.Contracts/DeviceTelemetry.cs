namespace EdgeInference.Contracts;

/// <summary>The device: free disk where the agent keeps its data, and temperature where /sys exposes it.</summary>
public sealed class DeviceTelemetry
{
    public long DiskFreeBytes { get; set; }

    /// <summary>The hottest thermal zone in °C, or null where there is none.</summary>
    public double? TemperatureCelsius { get; set; }

    public double? LoadAverage1m { get; set; }
}
