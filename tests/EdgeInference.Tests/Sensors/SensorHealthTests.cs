using System.Text.Json.Nodes;
using EdgeInference.Agent.Sensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using EdgeInference.Agent.Sensors.Emulation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeInference.Tests.Sensors;

/// <summary>Sensors in status and telemetry: environmental readings reported, a sensor that stops answering reported and re-opened, bad settings refused.</summary>
public sealed class SensorHealthTests : IDisposable
{
    private const string Device = "sensor-device";
    private readonly string _models = GeneratedModels.Repository(("vibration", 1, OnnxModelBuilder.Mlp(24, [8], seed: 3), null));

    public void Dispose() => Directory.Delete(_models, recursive: true);

    [Fact]
    public async Task EnvironmentalReadingsGoIntoTelemetry_AndASensorThatStopsAnswering_IsReportedUntilItAnswersAgain_WhileTheAgentServes()
    {
        var imu = new EmulatedMpu6050();
        var bus = new EmulatedSensorBus().Add(imu).Add(new EmulatedBme280(busId: 1, address: 0x76));
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, services => services.AddSingleton<ISensorBus>(bus),
            "--mqtt", broker.Url, "--device-id", Device, "--telemetry-interval", "00:00:00.200", "--Sensors:PollSeconds=0.2",
            "--Sensors:Devices:0:Name=vibration", "--Sensors:Devices:0:Chip=mpu6050", "--Sensors:Devices:0:Samples=8", "--Sensors:Devices:0:RateHz=200",
            "--Sensors:Devices:1:Name=room", "--Sensors:Devices:1:Chip=bme280", "--Sensors:Devices:1:Address=118",
            "--Capture:Intervals:0:IntervalMilliseconds=100", "--Capture:Intervals:0:Model=vibration", "--Capture:Intervals:0:Source=sensor:vibration");

        await recorder.WaitForAsync(r => Sensor(r.Payloads(Device, "telemetry").LastOrDefault(), "room")?["readings"] is not null, TimeSpan.FromSeconds(20), "telemetry with the room's readings");
        var room = Sensor(recorder.Payloads(Device, "telemetry")[^1], "room")!;
        Assert.Equal(("bme280", "ok"), (room["chip"]!.GetValue<string>(), room["state"]!.GetValue<string>()));
        var readings = room["readings"]!;

        // The datasheet's worked example, through the binding's compensation of the emulated chip's calibration.
        Assert.Equal(25.08, readings["temperature_c"]!.GetValue<double>(), 0.005);
        Assert.Equal(1006.5327, readings["pressure_hpa"]!.GetValue<double>(), 0.005);
        Assert.Equal(ExpectedHumidity(), readings["humidity_percent"]!.GetValue<double>(), 0.01);
        Assert.Equal(1.0 * 9.807, Sensor(recorder.Payloads(Device, "telemetry")[^1], "vibration")!["readings"]!["accel_z_m_s2"]!.GetValue<double>(), 0.01);

        Assert.Equal("ok", Sensor(LastStatus(recorder), "vibration")!["state"]!.GetValue<string>());
        imu.Answering = false;
        await recorder.WaitForAsync(r => Sensor(LastStatus(r), "vibration")?["state"]?.GetValue<string>() == "not_answering", TimeSpan.FromSeconds(20), "the status saying the IMU does not answer");
        var status = Sensor(LastStatus(recorder), "vibration")!;
        Assert.Contains("Error 121", status["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ok", Sensor(LastStatus(recorder), "room")!["state"]!.GetValue<string>());
        await recorder.WaitForAsync(r => Sensor(r.Payloads(Device, "telemetry")[^1], "vibration")?["state"]?.GetValue<string>() == "not_answering", TimeSpan.FromSeconds(20), "telemetry saying so too");

        // The agent goes on serving, and its interval trigger goes on trying.
        var answer = await V2Client.InferJsonAsync(agent.Http, "vibration", [NamedTensor.Floats("features", [1, 24], new float[24])]);
        Assert.NotNull(answer);
        var opens = bus.Opens;

        imu.Answering = true;
        await recorder.WaitForAsync(r => Sensor(LastStatus(r), "vibration")?["state"]?.GetValue<string>() == "ok", TimeSpan.FromSeconds(20), "the status saying the IMU answers again");
        Assert.True(bus.Opens > opens, "a sensor that stopped answering is opened (re-initialized) afresh");
        var log = agent.App.Services.GetRequiredService<Agent.PredictionLog.PredictionLogStore>();
        var before = log.Acknowledged;
        await AgentHost.WaitUntilAsync(() => log.Acknowledged > before + 1, TimeSpan.FromSeconds(20), "interval captures again");
        Assert.Empty(broker.Errors);

        // Every status and telemetry message, sensors included, is what the contract's schemas say.
        foreach (var kind in new[] { "status", "telemetry" })
        {
            var payloads = recorder.Messages.Where(m => m.Topic == $"edge/{Device}/{kind}" && m.Payload.Length > 0).Select(m => m.Payload).ToList();
            await SchemaCheck.AssertValidAsync(kind, payloads, broken => broken["sensors"]![0]!["state"] = "unplugged", "state");
        }
    }

    [Fact]
    public async Task BadSensorSettings_StopTheAgentNamingEachOne()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => AgentHost.StartAsync(_models, null,
            "--Sensors:Devices:0:Name=a", "--Sensors:Devices:0:Chip=mpu9999",
            "--Sensors:Devices:1:Name=a", "--Sensors:Devices:1:Chip=mpu6050", "--Sensors:Devices:1:Address=200", "--Sensors:Devices:1:RateHz=5000", "--Sensors:Devices:1:Range=3g",
            "--Sensors:Devices:2:Name=b", "--Sensors:Devices:2:Chip=ads1115", "--Sensors:Devices:2:Channels:0=AIN7", "--Sensors:Devices:2:Samples=0",
            "--Sensors:Devices:3:Name=c", "--Sensors:Devices:3:Chip=adxl345", "--Sensors:Devices:3:Address=83"));

        Assert.Contains("Sensors:Devices:0:Chip must be one of mpu6050, adxl345, amg88xx, ads1115, bme280, not 'mpu9999'", error.Failures);
        Assert.Contains(error.Failures, f => f.StartsWith("Sensors:Devices:1:Name must be a unique name", StringComparison.Ordinal));
        Assert.Contains("Sensors:Devices:1:Address must be a 7-bit I2C address, 3 to 119 (0x03 to 0x77), not 200", error.Failures);
        Assert.Contains("Sensors:Devices:1:RateHz must be above 0 and at most 1000 for the mpu6050, not 5000", error.Failures);
        Assert.Contains("Sensors:Devices:1:Range must be one of 2g, 4g, 8g, 16g for the mpu6050, not '3g'", error.Failures);
        Assert.Contains(error.Failures, f => f.StartsWith("Sensors:Devices:2:Channels: 'AIN7' is not one of", StringComparison.Ordinal));
        Assert.Contains("Sensors:Devices:2:Samples must be 1 to 100000, not 0", error.Failures);
        Assert.Contains("Sensors:Devices:3:Address does not apply: the adxl345 is on SPI; set ChipSelect", error.Failures);
    }

    [Fact]
    public async Task ATriggerNamingASensorNotConfigured_StopsTheAgentNamingIt()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => AgentHost.StartAsync(_models, null,
            "--Capture:Intervals:0:IntervalMilliseconds=5", "--Capture:Intervals:0:Model=vibration", "--Capture:Intervals:0:Source=sensor:nowhere"));

        Assert.Contains("Capture:Intervals:0:IntervalMilliseconds must be 10 to 86400000, not 5", error.Failures);
        Assert.Contains("Capture:Intervals:0:Source names sensor 'nowhere', which is not in Sensors:Devices", error.Failures);
    }

    /// <summary>The datasheet's floating-point humidity compensation, on the emulated chip's calibration and raw values.</summary>
    private static double ExpectedHumidity()
    {
        var (t1, t2, t3) = EmulatedBme280.TemperatureCalibration;
        var (h1, h2, h3, h4, h5, h6) = EmulatedBme280.HumidityCalibration;
        var var1 = ((EmulatedBme280.AdcTemperature / 16384.0) - (t1 / 1024.0)) * t2;
        var var2 = ((EmulatedBme280.AdcTemperature / 131072.0) - (t1 / 8192.0)) * ((EmulatedBme280.AdcTemperature / 131072.0) - (t1 / 8192.0)) * t3;
        var h = var1 + var2 - 76800.0;
        h = (EmulatedBme280.AdcHumidity - ((h4 * 64.0) + (h5 / 16384.0 * h))) * (h2 / 65536.0 * (1.0 + (h6 / 67108864.0 * h * (1.0 + (h3 / 67108864.0 * h)))));
        h *= 1.0 - (h1 * h / 524288.0);
        return Math.Clamp(h, 0, 100);
    }

    private static JsonNode? LastStatus(MqttRecorder recorder) => recorder.Payloads(Device, "status").LastOrDefault();

    private static JsonNode? Sensor(JsonNode? message, string name) =>
        message?["sensors"]?.AsArray().FirstOrDefault(s => s!["name"]!.GetValue<string>() == name);
}
