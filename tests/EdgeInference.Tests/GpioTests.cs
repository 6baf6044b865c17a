using System.Device.Gpio;
using System.Runtime.InteropServices;
using EdgeInference.Agent.Gpio;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests;

/// <summary>GPIO through the simulated driver: an edge on an input pin runs a capture-and-infer; an output crossing its threshold pulses a pin.</summary>
public sealed class GpioTests : IDisposable
{
    private const int ButtonPin = 17;
    private const int LedPin = 27;
    private readonly string _models = GeneratedModels.Repository(
        ("tabular", 1, OnnxModelBuilder.Mlp(8, [16], seed: 5), null),
        ("level", 1, OnnxModelBuilder.Identity(TensorDataType.Fp32, [-1, 1]), null));
    private readonly string _captures = TestPaths.NewTempDirectory("captures");

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        Directory.Delete(_captures, recursive: true);
    }

    [Fact]
    public async Task RisingEdgeOnTheTriggerPin_InfersOnTheNewestCapture_AndLogsWhatBareOrtAnswers()
    {
        var values = NamedTensor.RandomFloats(8, seed: 9);
        await File.WriteAllBytesAsync(Path.Combine(_captures, "old.npy"), NpyFile.Write(TensorDataType.Fp32, [1, 8], new byte[32]));
        File.SetLastWriteTimeUtc(Path.Combine(_captures, "old.npy"), DateTime.UtcNow.AddMinutes(-1));
        await File.WriteAllBytesAsync(Path.Combine(_captures, "new.npy"), NpyFile.Write(TensorDataType.Fp32, [1, 8], MemoryMarshal.AsBytes(values.AsSpan())));
        await using var agent = await AgentHost.StartAsync(_models, null, "--Gpio:Driver=simulated",
            $"--Gpio:Triggers:0:Pin={ButtonPin}", "--Gpio:Triggers:0:Model=tabular", $"--Gpio:Triggers:0:Source={_captures}");
        var gpio = agent.App.Services.GetRequiredService<SimulatedGpioDriver>();
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();

        gpio.Drive(ButtonPin, PinValue.High);
        gpio.Drive(ButtonPin, PinValue.Low); // a falling edge: not this trigger's

        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= 1, TimeSpan.FromSeconds(10), "the triggered prediction in the log");
        var record = Assert.Single(log.Read(0, 10));
        Assert.Equal("gpio", record.Protocol);
        Assert.Equal("gpio-17-1", record.RequestId);
        using var bare = new BareOrt(Path.Combine(_models, "tabular", "1", "model.onnx"));
        var expected = bare.Run([NamedTensor.Floats("features", [1, 8], values)])[0].AsFloats()[0];
        Assert.Equal(expected, (float)record.Outputs[0].Values[0]);
    }

    [Fact]
    public async Task OutputAtTheThreshold_SetsTheLedForItsHoldTime_AndOutputsBelowLeaveItOff()
    {
        await using var agent = await AgentHost.StartAsync(_models, null, "--Gpio:Driver=simulated",
            "--Gpio:Rules:0:Model=level", "--Gpio:Rules:0:Threshold=0.5", $"--Gpio:Rules:0:Pin={LedPin}", "--Gpio:Rules:0:HoldMilliseconds=300");
        var gpio = agent.App.Services.GetRequiredService<SimulatedGpioDriver>();
        var opened = gpio.Writes.Count;

        await V2Client.InferJsonAsync(agent.Http, "level", [NamedTensor.Floats("x", [1, 1], [0.2f])]);
        await Task.Delay(50);
        Assert.Equal(opened, gpio.Writes.Count);

        await V2Client.InferJsonAsync(agent.Http, "level", [NamedTensor.Floats("x", [1, 1], [0.9f])]);
        await AgentHost.WaitUntilAsync(() => gpio.Writes.Count >= opened + 2, TimeSpan.FromSeconds(5), "the LED on, then off");

        var pulse = gpio.Writes.Skip(opened).ToArray();
        Assert.Equal([(LedPin, true), (LedPin, false)], pulse.Select(w => (w.Pin, w.High)));
        Assert.InRange((pulse[1].At - pulse[0].At).TotalMilliseconds, 290, 2000);
    }

    [Fact]
    public async Task BadGpioSettings_StopTheAgentNamingEachOne()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            AgentHost.StartAsync(_models, null, "--Gpio:Driver=simulated", "--Gpio:Triggers:0:Pin=5", "--Gpio:Triggers:0:Edge=up",
                "--Gpio:Triggers:0:Model=tabular", "--Gpio:Triggers:0:Source=/nonexistent", "--Gpio:Rules:0:Model=level", "--Gpio:Rules:0:Pin=5"));

        Assert.Contains(error.Failures, f => f.Contains("Gpio:Triggers:0:Edge must be rising, falling or both, not 'up'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Gpio:Triggers:0:Source '/nonexistent'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Gpio:Rules:0:Pin must be a pin number used once, not 5", StringComparison.Ordinal));
    }
}
