using System.Diagnostics;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What enrolling a device costs on mosquitto's dynamic-security plugin as the number of clients grows: the fleet's
/// own <see cref="MosquittoDynamicSecurity"/> enrolls devices one after another (a client and a role each, as
/// enrollment does) against a real mosquitto, and each band of the count reports its enrollment time per device.
/// The plugin keeps every client in one JSON file that it rewrites on each change, so the cost grows with the count.
/// </summary>
internal static class ProvisioningCost
{
    public static async Task PrintAsync(int devices)
    {
        await using var mosquitto = await MosquittoBroker.StartWithDynamicSecurityAsync();
        using var admin = new MosquittoDynamicSecurity(
            new FleetOptions { MqttUrl = mosquitto.Url, MqttUsername = mosquitto.AdminUser, MqttPassword = mosquitto.AdminPassword, BrokerAdmin = FleetOptions.MosquittoAdmin },
            NullLogger<MosquittoDynamicSecurity>.Instance);
        await admin.PrepareAsync(CancellationToken.None);

        Console.WriteLine("| clients before | enrollments | per enrollment p50 ms | p95 ms | revocation p50 ms | mosquitto RSS MiB |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        var enrolled = 0;
        foreach (var band in new[] { 100, 1000, 2500, 5000, 10000 }.Where(b => b <= devices))
        {
            var times = new List<double>();
            var before = enrolled;
            while (enrolled < band)
            {
                var clock = Stopwatch.StartNew();
                await admin.AddDeviceAsync($"sim-{enrolled:D5}", "secret-" + enrolled, CancellationToken.None);
                times.Add(clock.Elapsed.TotalMilliseconds);
                enrolled++;
            }

            // Revocation at this size: remove and enroll again a few devices.
            var revocations = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var clock = Stopwatch.StartNew();
                await admin.RemoveDeviceAsync($"sim-{i:D5}", CancellationToken.None);
                revocations.Add(clock.Elapsed.TotalMilliseconds);
                await admin.AddDeviceAsync($"sim-{i:D5}", "secret-" + i, CancellationToken.None);
            }

            var tail = times.Skip(Math.Max(0, times.Count - 100)).Order().ToList();
            revocations.Sort();
            Console.WriteLine($"| {before} | {band - before} | {tail[tail.Count / 2]:F1} | {tail[tail.Count * 95 / 100]:F1} | {revocations[revocations.Count / 2]:F1} | {mosquitto.ResidentMebibytes():F0} |");
        }
    }
}
