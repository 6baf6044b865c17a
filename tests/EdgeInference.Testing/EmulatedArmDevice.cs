using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeInference.Testing;

/// <summary>
/// The emulated ARM64 device (device-images/vm): a copy of the built image booted with qemu-system-aarch64, its agent's
/// port forwarded to the host, its serial console (root, logged in) driven as a shell, its QEMU monitor for power cuts.
/// </summary>
public sealed partial class EmulatedArmDevice : IAsyncDisposable
{
    private readonly Process _qemu;
    private readonly StringBuilder _console = new();
    private readonly string _directory;
    private int _commands;

    private EmulatedArmDevice(Process qemu, string directory, int httpPort)
    {
        _qemu = qemu;
        _directory = directory;
        HttpPort = httpPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(120) };
        Started = Stopwatch.StartNew();
        _ = PumpAsync(qemu.StandardOutput);
        _ = PumpAsync(qemu.StandardError);
    }

    /// <summary>The image built by <c>./build.sh --target=DeviceImage</c>.</summary>
    public static string BuiltImage => Path.Combine(TestPaths.RepositoryRoot, "artifacts", "device-image");

    public int HttpPort { get; }

    public HttpClient Http { get; }

    /// <summary>Since QEMU started.</summary>
    public Stopwatch Started { get; }

    public bool HasExited => _qemu.HasExited;

    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    /// <summary>A writable copy of the built image in <paramref name="directory"/> (the disk sparse).</summary>
    public static async Task CopyImageAsync(string directory)
    {
        if (!File.Exists(Path.Combine(BuiltImage, "root.img")))
        {
            throw new InvalidOperationException($"no device image at {BuiltImage}: run ./build.sh --target=DeviceImage");
        }

        Directory.CreateDirectory(directory);
        foreach (var file in new[] { "vmlinuz", "initrd.img", "root.img" })
        {
            var (code, output) = await ProgramRunner.RunAsync("cp", ["--sparse=always", Path.Combine(BuiltImage, file), Path.Combine(directory, file)], TimeSpan.FromMinutes(2));
            if (code != 0)
            {
                throw new InvalidOperationException($"copying {file}: {output}");
            }
        }
    }

    /// <summary>Runs debugfs commands against the (stopped) image's disk: writing files into it without mounting it.</summary>
    public static async Task<string> EditDiskAsync(string directory, params string[] commands)
    {
        var script = Path.Combine(directory, "debugfs.cmd");
        await File.WriteAllLinesAsync(script, commands);
        var (code, output) = await ProgramRunner.RunAsync("debugfs", ["-w", "-f", script, Path.Combine(directory, "root.img")], TimeSpan.FromMinutes(1));
        return code == 0 ? output : throw new InvalidOperationException($"debugfs failed: {output}");
    }

    /// <summary>Boots the image in <paramref name="directory"/> (device-images/vm/boot.sh), forwarding the agent's port to <paramref name="httpPort"/>.</summary>
    public static EmulatedArmDevice Boot(string directory, int httpPort)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "device-images", "vm", "boot.sh"));
        info.ArgumentList.Add(directory);
        info.ArgumentList.Add(httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var qemu = Process.Start(info) ?? throw new InvalidOperationException("qemu-system-aarch64 did not start");
        return new EmulatedArmDevice(qemu, directory, httpPort);
    }

    /// <summary>Waits until the console shows <paramref name="pattern"/> (a regular expression), counting from <paramref name="after"/> characters in.</summary>
    public async Task<Match> WaitForConsoleAsync(string pattern, TimeSpan timeout, int after = 0)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline, TimeSpan.FromSeconds(5));
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var console = Console;
            var match = regex.Match(console, Math.Min(after, console.Length));
            if (match.Success)
            {
                return match;
            }

            if (_qemu.HasExited || deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"the device's console did not show /{pattern}/ within {timeout} (qemu {(_qemu.HasExited ? "exited" : "runs")}); its tail:\n{Tail(console)}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Runs <paramref name="command"/> in the console's root shell and returns its exit code and output.</summary>
    public async Task<(int Code, string Output)> RunAsync(string command, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref _commands);
        var from = Console.Length;
        // The quotes split the markers, so the shell's echo of the typed line never matches them; only its output does.
        await _qemu.StandardInput.WriteAsync($"echo '@@B''{id}@@'; {command}; echo \"@@E\"'{id}':$?'@@'\n");
        await _qemu.StandardInput.FlushAsync();
        var end = await WaitForConsoleAsync($"@@E{id}:(\\d+)@@", timeout, from);
        var begin = await WaitForConsoleAsync($"@@B{id}@@", TimeSpan.FromSeconds(1), from);
        var output = Console[(begin.Index + begin.Length)..end.Index].Trim('\r', '\n');
        return (int.Parse(end.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), output);
    }

    /// <summary>Pulls the plug: QEMU quits at once (monitor <c>quit</c>), with whatever the guest had not written lost.</summary>
    public async Task PowerCutAsync()
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_directory, "monitor.sock")));
        await socket.SendAsync("quit\n"u8.ToArray());
        await _qemu.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_qemu.HasExited)
        {
            _qemu.Kill(entireProcessTree: true);
            await _qemu.WaitForExitAsync();
        }

        _qemu.Dispose();
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;

    private async Task PumpAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (_console)
            {
                _console.Append(buffer, 0, read);
            }
        }
    }
}
