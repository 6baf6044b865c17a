using System.Device.I2c;
using System.Device.Spi;

namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// Buses with emulated chips on them, for an agent without hardware: an address with no chip fails every transfer, as an
/// unacknowledged address does on Linux; a bus not listed cannot be opened, as a missing /dev/i2c-N cannot.
/// </summary>
public sealed class EmulatedSensorBus : ISensorBus
{
    private readonly Dictionary<(int Bus, int Address), I2cDevice> _i2c = [];
    private readonly Dictionary<(int Bus, int ChipSelect), SpiDevice> _spi = [];

    /// <summary>A bus with an emulated chip wherever <paramref name="options"/> puts one, each with its built-in signal.</summary>
    public static EmulatedSensorBus For(SensorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bus = new EmulatedSensorBus();
        foreach (var device in options.Devices)
        {
            var address = device.Address ?? SensorChips.DefaultAddress(device.Chip);
            _ = device.Chip switch
            {
                SensorChips.Mpu6050 => bus.Add(new EmulatedMpu6050(device.Bus, address)),
                SensorChips.Amg88xx => bus.Add(new EmulatedAmg88xx(device.Bus, address)),
                SensorChips.Ads1115 => bus.Add(new EmulatedAds1115(device.Bus, address)),
                SensorChips.Bme280 => bus.Add(new EmulatedBme280(device.Bus, address)),
                _ => bus.Add(new EmulatedAdxl345(device.Bus, device.ChipSelect)),
            };
        }

        return bus;
    }

    public EmulatedSensorBus Add(I2cDevice chip)
    {
        ArgumentNullException.ThrowIfNull(chip);
        _i2c.Add((chip.ConnectionSettings.BusId, chip.ConnectionSettings.DeviceAddress), chip);
        return this;
    }

    public EmulatedSensorBus Add(SpiDevice chip)
    {
        ArgumentNullException.ThrowIfNull(chip);
        _spi.Add((chip.ConnectionSettings.BusId, chip.ConnectionSettings.ChipSelectLine), chip);
        return this;
    }

    /// <summary>How many times each chip was opened (a chip that stopped answering is opened afresh).</summary>
    public int Opens { get; private set; }

    public I2cDevice OpenI2c(int busId, int address)
    {
        if (!_i2c.Keys.Any(k => k.Bus == busId))
        {
            throw new IOException($"Error 2. Can not open I2C device file '/dev/i2c-{busId}'.");
        }

        Opens++;
        return _i2c.TryGetValue((busId, address), out var chip) ? chip : new EmptyAddress(busId, address);
    }

    public SpiDevice OpenSpi(int busId, int chipSelect, int clockFrequency, SpiMode mode)
    {
        if (!_spi.TryGetValue((busId, chipSelect), out var chip))
        {
            throw new IOException($"Error 2. Can not open SPI device file '/dev/spidev{busId}.{chipSelect}'.");
        }

        Opens++;
        return chip;
    }

    /// <summary>Nothing at this address: nothing acknowledges.</summary>
    private sealed class EmptyAddress : EmulatedI2cChip
    {
        public EmptyAddress(int busId, int address)
            : base(busId, address)
        {
            Answering = false;
        }
    }
}
