using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace EdgeInference.Testing;

/// <summary>
/// Debian's mosquitto as a child process on a free loopback port, with persistence so that queued QoS 1
/// messages of persistent sessions survive <see cref="StopAsync"/> and <see cref="Start"/> (the same port).
/// Optionally TLS with a client certificate required, from <see cref="TestCertificates"/>; or, with
/// <see cref="StartWithDynamicSecurityAsync"/>, no anonymous access and the dynamic-security plugin, administered by
/// <see cref="AdminUser"/>.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    private readonly string _directory = TestPaths.NewTempDirectory("mosquitto");
    private readonly StringBuilder _output = new();
    private Process? _process;

    private MosquittoBroker(int port, TestCertificates? tls, bool dynamicSecurity = false)
    {
        Port = port;
        Tls = tls;
        var config = new StringBuilder();
        if (dynamicSecurity)
        {
            var security = Path.Combine(_directory, "dynamic-security.json");
            Run("mosquitto_ctrl", "dynsec", "init", security, AdminUser, AdminPassword);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(security, (UnixFileMode)0b110_110_110); // mosquitto, dropped to its own user, saves changes there
            }

            // Debian puts it in the multiarch folder (/usr/lib/x86_64-linux-gnu); not a recursive search, which follows symbolic links.
            var plugin = Directory.GetDirectories("/usr/lib", "*-linux-gnu").Append("/usr/lib").Append("/usr/local/lib")
                .Select(folder => Path.Combine(folder, "mosquitto_dynamic_security.so")).FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("mosquitto_dynamic_security.so is not installed (apt-get install mosquitto)");
            config.AppendLine("per_listener_settings false").AppendLine($"plugin {plugin}").AppendLine($"plugin_opt_config_file {security}");
        }

        config
            .AppendLine($"listener {Port} 127.0.0.1")
            .AppendLine($"allow_anonymous {(dynamicSecurity ? "false" : "true")}")
            .AppendLine("persistence true")
            .AppendLine($"persistence_location {_directory}/")
            .AppendLine("autosave_interval 1")
            .AppendLine("max_queued_messages 100000")
            .AppendLine("log_dest stderr");
        if (tls is not null)
        {
            config.AppendLine($"cafile {tls.CaFile}").AppendLine($"certfile {tls.ServerCertFile}").AppendLine($"keyfile {tls.ServerKeyFile}")
                .AppendLine("require_certificate true");
        }

        File.WriteAllText(ConfigFile, config.ToString());

        // Started as root, mosquitto 2 drops to its own user: without write access here it cannot save its database,
        // so persistent sessions were silently lost over a restart.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_directory, (UnixFileMode)0b111_111_111);
        }
    }

    public int Port { get; }

    /// <summary>With dynamic security: the plugin's administrator (role <c>admin</c>).</summary>
    public string AdminUser => "fleet-admin";

    public string AdminPassword { get; } = Guid.NewGuid().ToString("N");

    public TestCertificates? Tls { get; }

    public string Url => Tls is null ? $"mqtt://127.0.0.1:{Port}" : $"mqtts://127.0.0.1:{Port}";

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

    private string ConfigFile => Path.Combine(_directory, "mosquitto.conf");

    public static Task<MosquittoBroker> StartAsync(TestCertificates? tls = null) => StartAsync(FreePort.Next(), tls);

    public static async Task<MosquittoBroker> StartAsync(int port, TestCertificates? tls = null)
    {
        var broker = new MosquittoBroker(port, tls);
        broker.Start();
        await broker.WaitListeningAsync();
        return broker;
    }

    /// <summary>A broker that lets nobody in anonymously, with the dynamic-security plugin and its administrator <see cref="AdminUser"/>.</summary>
    public static async Task<MosquittoBroker> StartWithDynamicSecurityAsync()
    {
        var broker = new MosquittoBroker(FreePort.Next(), null, dynamicSecurity: true);
        broker.Start();
        await broker.WaitListeningAsync();
        return broker;
    }

    /// <summary>With dynamic security: a client of the plugin with no role, so it may log in and do nothing.</summary>
    public void AddClientWithoutRoles(string user, string password) =>
        Run("mosquitto_ctrl", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-u", AdminUser, "-P", AdminPassword,
            "dynsec", "createClient", user, "-p", password);

    private static void Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {output.Result}{error}");
        }
    }

    /// <summary>The broker process's resident memory (VmRSS), in MiB.</summary>
    public double ResidentMebibytes() => ResidentMemory.Mebibytes(_process!.Id);

    /// <summary>Starts (again) on the same port.</summary>
    public void Start()
    {
        var info = new ProcessStartInfo("mosquitto") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(ConfigFile);
        _process = Process.Start(info)!;
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public async Task WaitListeningAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new TimeoutException($"mosquitto did not listen on {Port}:\n{Output}");
    }

    /// <summary>Stops the broker (SIGTERM: it saves its persistent sessions); clients see the connection drop.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        _process = null;
        if (!File.Exists(Path.Combine(_directory, "mosquitto.db")))
        {
            throw new InvalidOperationException($"mosquitto saved no database on SIGTERM, so its sessions will not survive a restart:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
