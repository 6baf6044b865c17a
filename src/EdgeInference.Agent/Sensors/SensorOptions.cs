namespace EdgeInference.Agent.Sensors;

/// <summary>Sensors (section <c>Sensors</c>): chips on I2C or SPI, read through Iot.Device.Bindings, as model inputs and telemetry.</summary>
public sealed class SensorOptions
{
    public const string Section = "Sensors";

    /// <summary>
    /// <c>linux</c> (default): the device's /dev/i2c-N and /dev/spidevN.M. <c>emulated</c>: each configured chip emulated
    /// at the register level with a built-in signal, to try settings and models on a machine without the hardware.
    /// </summary>
    public string Bus { get; set; } = "linux";

    public List<SensorDeviceOptions> Devices { get; set; } = [];

    /// <summary>Every this many seconds each sensor is read once: its health and latest readings for status, telemetry and metrics.</summary>
    public double PollSeconds { get; set; } = 10;
}
