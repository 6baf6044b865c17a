using System.Diagnostics;

namespace EdgeInference.Testing;

/// <summary>Runs a Node.js script of the repository's tests/ (third-party clients and validators), bounded in time.</summary>
public static class NodeScript
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "tests", script));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var node = Process.Start(info)!;
        using var cancellation = new CancellationTokenSource(timeout);
        var stdout = node.StandardOutput.ReadToEndAsync(cancellation.Token);
        var stderr = node.StandardError.ReadToEndAsync(cancellation.Token);
        try
        {
            await node.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} ran past {timeout}");
        }

        return (node.ExitCode, await stdout, await stderr);
    }
}
