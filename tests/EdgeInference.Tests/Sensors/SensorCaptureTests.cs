using System.Device.Gpio;
using System.Runtime.InteropServices;
using EdgeInference.Agent.Gpio;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Sensors;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using EdgeInference.Agent.Sensors.Emulation;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests.Sensors;

/// <summary>
/// Sensors as model inputs, through Iot.Device.Bindings' own drivers talking to chips emulated at the bus level: each
/// window the agent captures holds the chip's samples in the binding's units, and the model answers what bare ONNX
/// Runtime answers on that same tensor.
/// </summary>
public sealed class SensorCaptureTests : IDisposable
{
    private readonly string _models = GeneratedModels.Repository(
        ("vibration", 1, OnnxModelBuilder.Mlp(96, [32], seed: 11), null),
        ("thermal", 1, OnnxModelBuilder.Identity(TensorDataType.Fp32, [-1, 8, 8]), null),
        ("levels", 1, OnnxModelBuilder.Mlp(32, [8], seed: 12), null));

    public void Dispose() => Directory.Delete(_models, recursive: true);

    [Fact]
    public async Task AnImuWindowOnAnInterval_HoldsTheChipsSamplesInMetresPerSecondSquared_AndTheModelAnswersAsBareOrt()
    {
        var imu = new EmulatedMpu6050(busId: 1, address: 0x68);
        await using var agent = await StartAsync(new EmulatedSensorBus().Add(imu),
            "--Sensors:Devices:0:Name=vibration", "--Sensors:Devices:0:Chip=mpu6050", "--Sensors:Devices:0:Samples=32", "--Sensors:Devices:0:RateHz=400",
            "--Sensors:Devices:0:Range=4g", "--Capture:Intervals:0:IntervalMilliseconds=250", "--Capture:Intervals:0:Model=vibration",
            "--Capture:Intervals:0:Source=sensor:vibration");
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();

        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= 2, TimeSpan.FromSeconds(20), "two interval captures in the log");

        Assert.Equal(4, imu.RangeG);
        var served = imu.Served;
        foreach (var record in log.Read(0, 2))
        {
            Assert.Equal("interval", record.Protocol);
            Assert.StartsWith("interval-0-", record.RequestId, StringComparison.Ordinal);
            var input = Assert.Single(record.Inputs!);
            Assert.Equal([1L, 96L], input.Shape);
            var values = MemoryMarshal.Cast<byte, float>(input.Data).ToArray();

            // 32 consecutive samples the chip served, x y z side by side, converted at ±4 g: 8192 counts per g.
            var start = IndexOfWindow(served, values, 4.0 * 9.807 / 32768);
            Assert.True(start >= 0, "the window is 32 consecutive samples the chip served");
            Assert.Equal(BareOrtScore("vibration", values, [1, 96]), (float)record.Outputs[0].Values[0]);
        }
    }

    [Fact]
    public async Task AThermalFrame_IsTheCamerasPixelsRowByRowInDegrees_NegativeOnesIncluded()
    {
        var camera = new EmulatedAmg88xx(busId: 1, address: 0x69);
        await using var agent = await StartAsync(new EmulatedSensorBus().Add(camera),
            "--Sensors:Devices:0:Name=grid", "--Sensors:Devices:0:Chip=amg88xx", "--Sensors:Devices:0:Address=105", "--Sensors:Devices:0:RateHz=10",
            "--Capture:Intervals:0:IntervalMilliseconds=200", "--Capture:Intervals:0:Model=thermal", "--Capture:Intervals:0:Source=sensor:grid");
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();

        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= 1, TimeSpan.FromSeconds(20), "a thermal capture in the log");

        Assert.Equal(0, camera.OperatingMode);
        var record = log.Read(0, 1)[0];
        var input = MemoryMarshal.Cast<byte, float>(record.Inputs![0].Data).ToArray();
        Assert.Equal([1L, 8L, 8L], record.Inputs[0].Shape);
        Assert.Contains(camera.Served, frame => frame.Select(t => (float)t).SequenceEqual(input));
        Assert.Contains(input, t => t < 0);

        // The identity model answers the frame itself (the log keeps the first values of each output).
        var kept = record.Outputs[0].Values;
        Assert.NotEmpty(kept);
        Assert.Equal(input.Take(kept.Length).Select(v => (double)v), kept);
    }

    [Fact]
    public async Task AGpioEdge_CapturesAWindowFromAnSpiAccelerometer_AndTheModelAnswersAsBareOrt()
    {
        var accelerometer = new EmulatedAdxl345(busId: 0, chipSelect: 1);
        await using var agent = await StartAsync(new EmulatedSensorBus().Add(accelerometer),
            "--Sensors:Devices:0:Name=arm", "--Sensors:Devices:0:Chip=adxl345", "--Sensors:Devices:0:Bus=0", "--Sensors:Devices:0:ChipSelect=1",
            "--Sensors:Devices:0:Samples=32", "--Sensors:Devices:0:RateHz=800", "--Sensors:Devices:0:Range=8g",
            "--Gpio:Driver=simulated", "--Gpio:Triggers:0:Pin=5", "--Gpio:Triggers:0:Model=vibration", "--Gpio:Triggers:0:Source=sensor:arm");
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();
        var gpio = agent.App.Services.GetRequiredService<SimulatedGpioDriver>();

        gpio.Drive(5, PinValue.High);
        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= 1, TimeSpan.FromSeconds(20), "the triggered capture in the log");

        Assert.Equal(8, accelerometer.RangeG);
        var record = log.Read(0, 1)[0];
        Assert.Equal(("gpio", "gpio-5-1"), (record.Protocol, record.RequestId));
        var values = MemoryMarshal.Cast<byte, float>(record.Inputs![0].Data).ToArray();
        Assert.True(IndexOfWindow(accelerometer.Served, values, 1.0 / 64) >= 0, "the window is 32 consecutive samples the chip served, in g (64 counts per g at ±8 g)");
        Assert.Equal(BareOrtScore("vibration", values, [1, 96]), (float)record.Outputs[0].Values[0]);
    }

    [Fact]
    public async Task TwoAdcInputs_AreReadSideBySideInVolts_OneConversionEach()
    {
        var adc = new EmulatedAds1115(busId: 1, address: 0x49) { Voltage = (input, n) => input == 0 ? 1.0 + (0.5 * Math.Sin(n / 3.0)) : 2.0 - (0.001 * n) };
        await using var agent = await StartAsync(new EmulatedSensorBus().Add(adc),
            "--Sensors:Devices:0:Name=probe", "--Sensors:Devices:0:Chip=ads1115", "--Sensors:Devices:0:Address=73", "--Sensors:Devices:0:Samples=16",
            "--Sensors:Devices:0:RateHz=200", "--Sensors:Devices:0:Channels:0=AIN0", "--Sensors:Devices:0:Channels:1=AIN1",
            "--Capture:Intervals:0:IntervalMilliseconds=300", "--Capture:Intervals:0:Model=levels", "--Capture:Intervals:0:Source=sensor:probe");
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();

        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= 1, TimeSpan.FromSeconds(20), "an ADC capture in the log");

        var record = log.Read(0, 1)[0];
        var values = MemoryMarshal.Cast<byte, float>(record.Inputs![0].Data).ToArray();
        var conversions = adc.Served;
        var window = Enumerable.Range(0, conversions.Count - 31).Select(start => conversions.Skip(start).Take(32).ToArray())
            .Single(w => w.Select(c => (float)c.Volts).Zip(values).All(p => Math.Abs(p.First - p.Second) < 1e-6));
        Assert.Equal(Enumerable.Range(0, 32).Select(i => 4 + (i % 2)), window.Select(c => c.Input)); // AIN0 then AIN1, sample after sample
        Assert.Equal(BareOrtScore("levels", values, [1, 32]), (float)record.Outputs[0].Values[0]);
    }

    private Task<AgentHost> StartAsync(EmulatedSensorBus bus, params string[] args) =>
        AgentHost.StartAsync(_models, null, services => services.AddSingleton<ISensorBus>(bus), [.. args, "--Agent:PredictionLog:InputSampleRate=1"]);

    /// <summary>Where in <paramref name="served"/> (raw x y z counts) the window <paramref name="values"/> starts, at <paramref name="scale"/> units per count; -1 if nowhere.</summary>
    private static int IndexOfWindow(IReadOnlyList<short[]> served, float[] values, double scale)
    {
        var samples = values.Length / 3;
        for (var start = 0; start + samples <= served.Count; start++)
        {
            var matches = true;
            for (var i = 0; i < values.Length && matches; i++)
            {
                var expected = served[start + (i / 3)][i % 3] * scale;
                matches = Math.Abs(expected - values[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected));
            }

            if (matches)
            {
                return start;
            }
        }

        return -1;
    }

    private float BareOrtScore(string model, float[] values, long[] shape)
    {
        using var bare = new BareOrt(Path.Combine(_models, model, "1", "model.onnx"));
        return bare.Run([NamedTensor.Floats("features", shape, values)])[0].AsFloats()[0];
    }
}
