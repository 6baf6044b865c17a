using Iot.Device.Amg88xx;

namespace EdgeInference.Agent.Sensors;

/// <summary>An AMG88xx (Grid-EYE) thermal camera on I2C: one 8×8 frame in °C, row by row.</summary>
internal sealed class Amg88xxDriver : SensorDriver
{
    private static readonly string[] PixelNames = Enumerable.Range(0, Amg88xx.PixelCount).Select(i => $"pixel_{i}_c").ToArray();
    private readonly Amg88xx _camera;

    public Amg88xxDriver(ISensorBus bus, SensorDeviceOptions options)
    {
        var device = bus.OpenI2c(options.Bus, options.Address ?? SensorChips.DefaultAddress(SensorChips.Amg88xx));
        // The chip has no identity register: these writes are what tells whether it answers.
        _camera = Bind(device, () => new Amg88xx(device) { OperatingMode = OperatingMode.Normal, FrameRate = FrameRate.Rate10FramesPerSecond });
    }

    public override IReadOnlyList<string> Values => PixelNames;

    public override void Read(Span<float> sample)
    {
        _camera.ReadImage();
        for (var y = 0; y < Amg88xx.Height; y++)
        {
            for (var x = 0; x < Amg88xx.Width; x++)
            {
                sample[(y * Amg88xx.Width) + x] = (float)_camera[x, y].DegreesCelsius;
            }
        }
    }

    /// <summary>A frame's 64 pixels are too many for telemetry: their minimum, mean and maximum.</summary>
    public override void Summarize(ReadOnlySpan<float> sample, Dictionary<string, double> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        double sum = 0, min = double.MaxValue, max = double.MinValue;
        foreach (var value in sample)
        {
            sum += value;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        readings["min_c"] = min;
        readings["mean_c"] = Math.Round(sum / sample.Length, 4);
        readings["max_c"] = max;
    }

    public override void Dispose() => _camera.Dispose();
}
