namespace EdgeInference.Agent.Sensors;

/// <summary>One sensor chip: where it sits on which bus, and the window a capture reads from it.</summary>
public sealed class SensorDeviceOptions
{
    /// <summary>How captures (<c>sensor:NAME</c>), status and telemetry name it.</summary>
    public string Name { get; set; } = "";

    /// <summary>One of <see cref="SensorChips.Names"/>.</summary>
    public string Chip { get; set; } = "";

    /// <summary>The bus number: 1 for /dev/i2c-1, or 0 for /dev/spidev0.x.</summary>
    public int Bus { get; set; } = 1;

    /// <summary>The I2C address; default the chip's usual one (0x68 MPU6050 and AMG88xx, 0x48 ADS1115, 0x77 BME280).</summary>
    public int? Address { get; set; }

    /// <summary>The SPI chip select (ADXL345): 0 for /dev/spidev{Bus}.0.</summary>
    public int ChipSelect { get; set; }

    /// <summary>Samples in one capture window (1 for a single reading, e.g. one thermal frame).</summary>
    public int Samples { get; set; } = 1;

    /// <summary>Samples per second within a window; default 100, or the chip's fastest when slower (10 for the AMG88xx).</summary>
    public double? RateHz { get; set; }

    /// <summary>
    /// The measuring range: <c>2g</c>, <c>4g</c>, <c>8g</c> or <c>16g</c> for accelerometers (default 2g); for the ADS1115 the
    /// full-scale voltage <c>6.144</c>, <c>4.096</c> (default), <c>2.048</c>, <c>1.024</c>, <c>0.512</c> or <c>0.256</c>.
    /// </summary>
    public string? Range { get; set; }

    /// <summary>ADS1115 inputs read in each sample, in order: <c>AIN0</c>..<c>AIN3</c>, or differential <c>AIN0_AIN1</c>, <c>AIN0_AIN3</c>, <c>AIN1_AIN3</c>, <c>AIN2_AIN3</c>.</summary>
    public List<string> Channels { get; set; } = [];
}
