namespace EdgeInference.Contracts;

/// <summary>One configured sensor as the status and telemetry messages list it: its health and its latest readings.</summary>
public sealed class SensorStatus
{
    /// <summary>The name given in the agent's <c>Sensors:Devices</c> settings.</summary>
    public string Name { get; set; } = "";

    /// <summary>The chip: <c>mpu6050</c>, <c>adxl345</c>, <c>amg88xx</c>, <c>ads1115</c> or <c>bme280</c>.</summary>
    public string Chip { get; set; } = "";

    public SensorState State { get; set; }

    /// <summary>Why the last open or read failed, while the state is <see cref="SensorState.NotAnswering"/>.</summary>
    public string? Error { get; set; }

    /// <summary>When the sensor last answered.</summary>
    public DateTimeOffset? ReadAt { get; set; }

    /// <summary>The latest readings, by name with their unit (<c>temperature_c</c>, <c>pressure_hpa</c>, <c>accel_x_m_s2</c>); telemetry only.</summary>
    public Dictionary<string, double>? Readings { get; set; }
}
