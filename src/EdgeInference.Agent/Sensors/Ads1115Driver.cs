using Iot.Device.Ads1115;

namespace EdgeInference.Agent.Sensors;

/// <summary>An ADS1115 16-bit ADC on I2C: each configured input in volts, one single-shot conversion per input per sample.</summary>
internal sealed class Ads1115Driver : SensorDriver
{
    private readonly Ads1115 _adc;
    private readonly InputMultiplexer[] _inputs;

    public Ads1115Driver(ISensorBus bus, SensorDeviceOptions options)
    {
        _inputs = SensorChips.AdcChannels(options).Select(c => Enum.Parse<InputMultiplexer>(c, ignoreCase: true)).ToArray();
        Values = _inputs.Select(i => $"{i.ToString().ToLowerInvariant()}_v").ToArray();
        var range = (options.Range ?? "4.096") switch
        {
            "6.144" => MeasuringRange.FS6144,
            "2.048" => MeasuringRange.FS2048,
            "1.024" => MeasuringRange.FS1024,
            "0.512" => MeasuringRange.FS0512,
            "0.256" => MeasuringRange.FS0256,
            _ => MeasuringRange.FS4096,
        };
        var device = bus.OpenI2c(options.Bus, options.Address ?? SensorChips.DefaultAddress(SensorChips.Ads1115));
        // Power-down (single-shot) mode: each read starts a conversion on the input asked for and waits for it.
        _adc = Bind(device, () => new Ads1115(device, _inputs[0], range, DataRate.SPS860, DeviceMode.PowerDown));
    }

    public override IReadOnlyList<string> Values { get; }

    public override void Read(Span<float> sample)
    {
        for (var i = 0; i < _inputs.Length; i++)
        {
            sample[i] = (float)_adc.ReadVoltage(_inputs[i]).Volts;
        }
    }

    public override void Dispose() => _adc.Dispose();
}
