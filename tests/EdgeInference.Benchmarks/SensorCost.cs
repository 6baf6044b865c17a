using System.Diagnostics;
using EdgeInference.Agent.Sensors;
using EdgeInference.Agent.Sensors.Emulation;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What a sensor read costs the agent: one sample through each binding over a bus emulated at the register level (the
/// binding's own code and the hub's; a real bus adds its transfer time), and how closely software pacing keeps a
/// window to its nominal length (measured ÷ nominal, and the latest any sample came).
/// </summary>
internal static class SensorCost
{
    public static async Task PrintAsync()
    {
        (string Chip, string Extra, int Samples, double Rate)[] cases =
        [
            (SensorChips.Mpu6050, "", 128, 400), (SensorChips.Mpu6050, "", 64, 1000), (SensorChips.Adxl345, "", 256, 800),
            (SensorChips.Ads1115, "AIN0,AIN1", 32, 200), (SensorChips.Amg88xx, "", 1, 10), (SensorChips.Bme280, "", 1, 50),
        ];
        Console.WriteLine("| chip | values per sample | µs per sample (binding + emulated bus) | bytes allocated per sample | window | nominal ms | measured ms (median of 10) | measured ÷ nominal |");
        Console.WriteLine("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var (chip, extra, samples, rate) in cases)
        {
            var device = new SensorDeviceOptions
            {
                Name = chip, Chip = chip, Bus = chip == SensorChips.Adxl345 ? 0 : 1, Samples = samples, RateHz = rate,
                Channels = extra.Length == 0 ? [] : [.. extra.Split(',')],
            };
            var options = new SensorOptions { Bus = "emulated", Devices = [device] };
            using var hub = new SensorHub(options, EmulatedSensorBus.For(options), TimeProvider.System, NullLogger<SensorHub>.Instance);
            hub.Poll(CancellationToken.None); // opens the chip

            // Read cost: one unpaced window of 2000 samples (a rate no chip has, so nothing waits).
            const int reads = 2000;
            var unpacedOptions = new SensorOptions { Bus = "emulated", Devices = [new SensorDeviceOptions
            {
                Name = chip, Chip = chip, Bus = device.Bus, Samples = reads, RateHz = 1e9, Channels = device.Channels,
            }] };
            using var unpaced = new SensorHub(unpacedOptions, EmulatedSensorBus.For(unpacedOptions), TimeProvider.System, NullLogger<SensorHub>.Instance);
            var buffer = new float[unpaced.WindowLength(chip)];
            await unpaced.ReadWindowAsync(chip, buffer, CancellationToken.None);
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            await unpaced.ReadWindowAsync(chip, buffer, CancellationToken.None);
            var perSample = watch.Elapsed.TotalMicroseconds / reads;
            var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / reads;

            var window = new float[hub.WindowLength(chip)];
            var durations = new List<double>();
            for (var i = 0; i < 10; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await hub.ReadWindowAsync(chip, window, CancellationToken.None);
                durations.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            durations.Sort();
            var nominal = (samples - 1) / rate * 1000;
            var measured = (durations[4] + durations[5]) / 2;
            var ratio = nominal > 0 ? $"{measured / nominal:0.000}" : "–";
            Console.WriteLine($"| {chip}{(extra.Length > 0 ? $" ({extra})" : "")} | {window.Length / samples} | {perSample:0.0} | {bytes} | {samples} @ {rate} Hz | {nominal:0.0} | {measured:0.0} | {ratio} |");
        }
    }
}
