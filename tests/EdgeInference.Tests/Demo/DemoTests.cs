using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Demo;

/// <summary>The README's main job, run as a process exactly as a user would (with --exit-when-done), and its outcome checked.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_RunsTheStagedRolloutEndToEnd_AndEndsWithAllThreeAgentsOnV2ReportingTelemetry()
    {
        var configuration = AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var demo = Path.Combine(TestPaths.RepositoryRoot, "fleet", "EdgeInference.Demo", "bin", configuration, "net10.0", "edge-demo.dll");
        Assert.True(File.Exists(demo), $"{demo} is not built");
        var root = TestPaths.NewTempDirectory("demo");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { demo, "--root", root, "--models", TestPaths.SampleModels, "--http-port", "0", "--mqtt-port", "0", "--exit-when-done", "--timeout", "240" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var said = await output + await errors;
        Assert.True(process.ExitCode == 0, said);
        Assert.Contains("/dashboard/#token=", said, StringComparison.Ordinal);
        Assert.Contains("stopped every process", said, StringComparison.Ordinal);
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root, "summary.json")))!;
        Assert.Equal("completed", summary["rollout_state"]!.GetValue<string>());

        // 2.0.0 is int8 by models optimize, or (when no variant passes on this machine) the float network, saying why.
        var v2 = summary["hey_jarvis_2.0.0"]!.GetValue<string>();
        Assert.True(v2.StartsWith("int8 by models optimize (", StringComparison.Ordinal) || v2.StartsWith("the float network (", StringComparison.Ordinal), v2);
        Assert.Equal(["started", "advanced", "completed"], summary["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        var devices = summary["devices"]!.AsArray();
        Assert.Equal(3, devices.Count);
        Assert.All(devices, d =>
        {
            Assert.Equal("2.0.0", d!["hey_jarvis"]!.GetValue<string>());
            Assert.True(d["requests_on_2.0.0"]!.GetValue<long>() > 0, d.ToJsonString());
        });

        // Every agent and the fleet stopped on SIGTERM: nothing of theirs is left running.
        Assert.DoesNotContain(Process.GetProcesses(), p => SafeCommandLine(p).Contains(root, StringComparison.Ordinal));
        Directory.Delete(root, recursive: true);
    }

    private static string SafeCommandLine(Process process)
    {
        try
        {
            return File.ReadAllText($"/proc/{process.Id}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
