using Iot.Device.Bmxx80;

namespace EdgeInference.Agent.Sensors;

/// <summary>A BME280 environmental sensor on I2C: temperature (°C), pressure (hPa) and relative humidity (%), compensated by the binding.</summary>
internal sealed class Bme280Driver : SensorDriver
{
    private readonly Bme280 _sensor;

    public Bme280Driver(ISensorBus bus, SensorDeviceOptions options)
    {
        var device = bus.OpenI2c(options.Bus, options.Address ?? SensorChips.DefaultAddress(SensorChips.Bme280));
        // The binding checks the chip id (0x60), reads the factory calibration and resets the chip.
        _sensor = Bind(device, () => new Bme280(device));
    }

    public override IReadOnlyList<string> Values { get; } = ["temperature_c", "pressure_hpa", "humidity_percent"];

    /// <summary>One forced-mode measurement; a quantity the chip skipped reads as NaN.</summary>
    public override void Read(Span<float> sample)
    {
        var result = _sensor.Read();
        sample[0] = result.Temperature is { } temperature ? (float)temperature.DegreesCelsius : float.NaN;
        sample[1] = result.Pressure is { } pressure ? (float)pressure.Hectopascals : float.NaN;
        sample[2] = result.Humidity is { } humidity ? (float)humidity.Percent : float.NaN;
    }

    public override void Dispose() => _sensor.Dispose();
}
