using System.Device.Spi;
using Iot.Device.Adxl345;

namespace EdgeInference.Agent.Sensors;

/// <summary>An ADXL345 accelerometer on SPI: three axes in g, as the binding converts them.</summary>
internal sealed class Adxl345Driver : SensorDriver
{
    private const byte DeviceIdRegister = 0x00;
    private const byte DeviceId = 0xE5;
    private const byte ReadBit = 0x80;
    private readonly SpiDevice _device;
    private readonly Adxl345 _accelerometer;
    private readonly string _where;

    public Adxl345Driver(ISensorBus bus, SensorDeviceOptions options)
    {
        _where = SensorChips.Where(options);
        _device = bus.OpenSpi(options.Bus, options.ChipSelect, Adxl345.SpiClockFrequency, Adxl345.SpiMode);
        var range = (options.Range ?? "2g") switch
        {
            "4g" => GravityRange.Range04,
            "8g" => GravityRange.Range08,
            "16g" => GravityRange.Range16,
            _ => GravityRange.Range02,
        };
        _accelerometer = Bind(_device, () =>
        {
            Check();
            return new Adxl345(_device, range);
        });
    }

    public override IReadOnlyList<string> Values { get; } = ["accel_x_g", "accel_y_g", "accel_z_g"];

    /// <summary>SPI has no acknowledge: an empty socket reads as zeros, so the chip's DEVID register must say 0xE5.</summary>
    public override void Check()
    {
        Span<byte> write = [ReadBit | DeviceIdRegister, 0];
        Span<byte> read = stackalloc byte[2];
        _device.TransferFullDuplex(write, read);
        if (read[1] != DeviceId)
        {
            throw new IOException($"no ADXL345 answers on {_where}: its device id reads 0x{read[1]:X2}, not 0x{DeviceId:X2}");
        }
    }

    public override void Read(Span<float> sample)
    {
        var acceleration = _accelerometer.Acceleration;
        sample[0] = acceleration.X;
        sample[1] = acceleration.Y;
        sample[2] = acceleration.Z;
    }

    public override void Dispose() => _accelerometer.Dispose();
}
