using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeInference.Testing;

/// <summary>The agent as a real child process (the published AOT binary), stopped with SIGTERM or killed on dispose.</summary>
public sealed partial class AgentProcess : IDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process, int httpPort)
    {
        _process = process;
        HttpPort = httpPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }

    public HttpClient Http { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/>; the HTTP port must be among them. The working
    /// directory is this process's unless given (systemd starts services in <c>/</c>).
    /// </summary>
    /// <summary>
    /// The published arm64 agent under qemu-user, serving <paramref name="models"/> on <paramref name="httpPort"/>. ONNX
    /// Runtime's CPU probe reads the host's cache topology, which qemu-user cannot describe: a mount namespace hides it.
    /// </summary>
    public static AgentProcess StartArm64UnderQemu(string models, string data, int httpPort)
    {
        var script = "for d in /sys/devices/system/cpu/cpu*/cache; do mount -t tmpfs none \"$d\"; done; "
            + $"exec qemu-aarch64-static -L /usr/aarch64-linux-gnu '{TestPaths.AotAgent("linux-arm64")}' --models '{models}' --data '{data}' --urls http://127.0.0.1:{httpPort}";
        return Start("unshare", ["-m", "sh", "-c", script], httpPort);
    }

    public static AgentProcess Start(string fileName, IEnumerable<string> arguments, int httpPort, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? "" };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new AgentProcess(Process.Start(info)!, httpPort);
    }

    /// <summary>How many inotify instances (file system watchers) the process holds, from its open descriptors.</summary>
    public int InotifyInstances() =>
        new DirectoryInfo($"/proc/{Id}/fd").EnumerateFileSystemInfos().Count(fd => fd.LinkTarget == "anon_inode:inotify");

    /// <summary>Polls /v2/health/ready until it answers 200; returns how long that took from now.</summary>
    public async Task<TimeSpan> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var quick = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The agent exited with {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await quick.GetAsync("/v2/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return clock.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"The agent was not ready after {timeout}:\n{Output}");
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        _ = Kill(_process.Id, SigTerm);
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    /// <summary>kill -9: no chance to flush or say goodbye.</summary>
    public void KillHard()
    {
        _ = Kill(_process.Id, 9);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
