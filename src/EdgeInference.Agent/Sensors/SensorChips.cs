namespace EdgeInference.Agent.Sensors;

/// <summary>The sensor chips the agent reads, what settings each takes, and how each is opened.</summary>
public static class SensorChips
{
    public const string Mpu6050 = "mpu6050";
    public const string Adxl345 = "adxl345";
    public const string Amg88xx = "amg88xx";
    public const string Ads1115 = "ads1115";
    public const string Bme280 = "bme280";

    public static readonly string[] Names = [Mpu6050, Adxl345, Amg88xx, Ads1115, Bme280];

    public const string WithoutSensors = "this agent was published without sensor drivers (-p:Sensors=false); publish it without that switch to read sensors";

    public static readonly string[] AccelerationRanges = ["2g", "4g", "8g", "16g"];

    public static readonly string[] VoltageRanges = ["6.144", "4.096", "2.048", "1.024", "0.512", "0.256"];

    public static readonly string[] AdcInputs = ["AIN0", "AIN1", "AIN2", "AIN3", "AIN0_AIN1", "AIN0_AIN3", "AIN1_AIN3", "AIN2_AIN3"];

    /// <summary>Whether the chip sits on SPI (chip select) rather than I2C (address).</summary>
    public static bool IsSpi(string chip) => chip == Adxl345;

    /// <summary>
    /// The fastest sampling the agent paces for the chip: its output data rate, or what one reading costs over the bus
    /// (the ADS1115 converts at 860 per second; the AMG88xx makes 10 frames a second; a BME280 forced measurement takes ~10 ms).
    /// </summary>
    public static double MaxRateHz(string chip) => chip switch
    {
        Mpu6050 => 1000,
        Adxl345 => 3200,
        Amg88xx => 10,
        Ads1115 => 860,
        _ => 50,
    };

    /// <summary>The samples per second a window is paced at: <see cref="SensorDeviceOptions.RateHz"/>, else 100 or the chip's fastest.</summary>
    public static double RateHz(SensorDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.RateHz ?? Math.Min(100, MaxRateHz(options.Chip));
    }

    /// <summary>The measuring ranges the chip takes in <see cref="SensorDeviceOptions.Range"/> (none: it has no setting).</summary>
    public static string[] Ranges(string chip) => chip switch
    {
        Mpu6050 or Adxl345 => AccelerationRanges,
        Ads1115 => VoltageRanges,
        _ => [],
    };

    /// <summary>The ADS1115 inputs a sample reads: those configured, else AIN0.</summary>
    public static IReadOnlyList<string> AdcChannels(SensorDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Channels.Count > 0 ? options.Channels : ["AIN0"];
    }

    /// <summary>How many values one sample of the chip holds: 3 axes, 64 pixels, one per ADC input, or 3 environmental readings.</summary>
    public static int ValuesPerSample(SensorDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Chip switch
        {
            Amg88xx => 64,
            Ads1115 => AdcChannels(options).Count,
            _ => 3,
        };
    }

    /// <summary>Where the chip sits, for messages: <c>I2C bus 1 at 0x68</c>.</summary>
    public static string Where(SensorDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return IsSpi(options.Chip) ? $"SPI bus {options.Bus} chip select {options.ChipSelect}" : $"I2C bus {options.Bus} at 0x{options.Address ?? DefaultAddress(options.Chip):X2}";
    }

    /// <summary>The chip's usual I2C address (its address pin low).</summary>
    public static int DefaultAddress(string chip) => chip switch
    {
        Ads1115 => 0x48,
        Bme280 => 0x77,
        _ => 0x68,
    };

    /// <summary>Opens the chip through its binding, which checks it as far as the chip allows; throws <see cref="IOException"/> when it does not answer.</summary>
    internal static SensorDriver Open(ISensorBus bus, SensorDeviceOptions options)
    {
        if (!SensorSupport.IsSupported)
        {
            // A constant in a build published with -p:Sensors=false: the drivers below are not compiled in.
            throw new PlatformNotSupportedException(WithoutSensors);
        }

        return options.Chip switch
        {
            Mpu6050 => new Mpu6050Driver(bus, options),
            Adxl345 => new Adxl345Driver(bus, options),
            Amg88xx => new Amg88xxDriver(bus, options),
            Ads1115 => new Ads1115Driver(bus, options),
            Bme280 => new Bme280Driver(bus, options),
            _ => throw new InvalidOperationException($"no driver for chip '{options.Chip}'"),
        };
    }
}
