using System.Device.I2c;
using System.Device.Spi;

namespace EdgeInference.Agent.Sensors;

/// <summary>
/// Where sensor chips are reached: the Linux I2C and SPI device files on a device (<see cref="LinuxSensorBus"/>), or chips
/// emulated at the register level where there is no hardware (tests). The bindings' own code runs either way.
/// </summary>
public interface ISensorBus
{
    /// <summary>The chip at <paramref name="address"/> on I2C bus <paramref name="busId"/>; throws <see cref="IOException"/> when the bus cannot be opened.</summary>
    I2cDevice OpenI2c(int busId, int address);

    /// <summary>The chip on SPI bus <paramref name="busId"/> behind <paramref name="chipSelect"/>.</summary>
    SpiDevice OpenSpi(int busId, int chipSelect, int clockFrequency, SpiMode mode);
}
