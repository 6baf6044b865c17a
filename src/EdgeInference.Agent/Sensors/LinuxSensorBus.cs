using System.Device.I2c;
using System.Device.Spi;

namespace EdgeInference.Agent.Sensors;

/// <summary>The device's own buses: <c>/dev/i2c-N</c> and <c>/dev/spidevN.M</c>, through System.Device.Gpio.</summary>
public sealed class LinuxSensorBus : ISensorBus
{
    public I2cDevice OpenI2c(int busId, int address) => I2cDevice.Create(new I2cConnectionSettings(busId, address));

    public SpiDevice OpenSpi(int busId, int chipSelect, int clockFrequency, SpiMode mode) =>
        SpiDevice.Create(new SpiConnectionSettings(busId, chipSelect) { ClockFrequency = clockFrequency, Mode = mode });
}
