using System.Diagnostics;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>edge-sim as an operator runs it: bad arguments and unusable inputs are refused with a message naming them.</summary>
public sealed class SimulatorTests
{
    [Theory]
    [InlineData(2, "--devices 'x' is not a whole number of at least 1", "--broker", "mqtt://127.0.0.1:1883", "--devices", "x", "--credentials", "c.txt")]
    [InlineData(2, "--failure-rate '2' is not a number from 0 to 1", "--broker", "mqtt://127.0.0.1:1883", "--devices", "3", "--credentials", "c.txt", "--failure-rate", "2")]
    [InlineData(2, "--step-delay 'NaN' is not a number", "--broker", "mqtt://127.0.0.1:1883", "--devices", "3", "--credentials", "c.txt", "--step-delay", "NaN")]
    [InlineData(2, "--broker http://127.0.0.1:1883 is not mqtt://HOST:PORT", "--broker", "http://127.0.0.1:1883", "--devices", "3", "--credentials", "c.txt")]
    [InlineData(2, "--broker mqtt://a:1883,mqtt://b:1883 is not mqtt://HOST:PORT (or a cluster's", "--broker", "mqtt://a:1883,mqtt://b:1883", "--devices", "3", "--credentials", "c.txt")]
    [InlineData(2, "unknown option --bogus", "--bogus")]
    [InlineData(2, "--seed needs a value", "--seed")]
    [InlineData(2, "either --credentials FILE or --enroll FLEET_URL", "--broker", "mqtt://127.0.0.1:1883", "--devices", "3")]
    [InlineData(1, "no-such-file.txt", "--broker", "mqtt://127.0.0.1:1883", "--devices", "3", "--credentials", "no-such-file.txt")]
    public async Task BadArguments_AreRefusedWithTheOptionNamed(int exitCode, string message, params string[] arguments)
    {
        var (code, output) = await RunAsync(arguments);

        Assert.True(code == exitCode, $"exit {code}: {output}");
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABrokerThatIsNotThere_IsNamed_AndTheExitCodeIsOne()
    {
        var port = FreePort.Next();
        var (code, output) = await RunAsync("--broker", $"mqtt://127.0.0.1:{port}", "--devices", "1", "--credentials", "c.txt", "--duration", "1");

        Assert.True(code == 1, $"exit {code}: {output}");
        Assert.Contains($"cannot connect to mqtt://127.0.0.1:{port}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACluster_GivenAsItsNodesPorts_GetsTheDevicesSpreadOverEveryNode()
    {
        await using var a = await InProcessBroker.StartAsync();
        await using var b = await InProcessBroker.StartAsync();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        a.Server.ClientConnectedAsync += e => Count(seen, "a");
        b.Server.ClientConnectedAsync += e => Count(seen, "b");

        var (code, output) = await RunAsync(devices: 6, "--broker", $"{a.Url},{b.Url}", "--devices", "6", "--credentials", "c.txt", "--duration", "1");

        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains("6 of 6 devices connected", output, StringComparison.Ordinal);
        Assert.Equal(6, seen.Values.Sum());
        Assert.True(seen.GetValueOrDefault("a") > 0 && seen.GetValueOrDefault("b") > 0, $"connections per node: a {seen.GetValueOrDefault("a")}, b {seen.GetValueOrDefault("b")}");
    }

    private static Task Count(System.Collections.Concurrent.ConcurrentDictionary<string, int> seen, string node)
    {
        seen.AddOrUpdate(node, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    private static Task<(int Code, string Output)> RunAsync(params string[] arguments) => RunAsync(1, arguments);

    /// <summary>Runs edge-sim in a folder holding <c>c.txt</c> (the credentials of <paramref name="devices"/> devices).</summary>
    private static async Task<(int Code, string Output)> RunAsync(int devices, params string[] arguments)
    {
        var folder = TestPaths.NewTempDirectory("edge-sim");
        try
        {
            await File.WriteAllLinesAsync(Path.Combine(folder, "c.txt"), Enumerable.Range(0, devices).Select(i => $"sim-{i:00000} secret"));
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edge-sim.dll"));
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output + await error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
