using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeInference.Testing;

/// <summary>
/// A real RabbitMQ cluster from Debian's package: each node a child process (no systemd) with its own folder, Erlang
/// node name and loopback ports, the MQTT and management plugins on, anonymous MQTT off, and one administrator
/// (<see cref="AdminUser"/>). The first node starts alone; the others join it at their first boot (classic-config peer
/// discovery); the cluster has its own Erlang cookie and port mapper (epmd) port, so it never meets another on the machine.
/// </summary>
public sealed class RabbitMqCluster : IAsyncDisposable
{
    private const string Home = "/usr/lib/rabbitmq/bin";
    private readonly string _directory = TestPaths.NewTempDirectory("rabbitmq");
    private readonly int _epmdPort = FreePort.Next();
    private readonly string _cookie = Guid.NewGuid().ToString("N");
    private readonly Process?[] _processes;
    private readonly StringBuilder[] _output;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private RabbitMqCluster(int count)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        Nodes = Enumerable.Range(1, count)
            .Select(i => new RabbitMqNode($"edge{i}-{suffix}@localhost", FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next()))
            .ToArray();
        _processes = new Process?[count];
        _output = Enumerable.Range(0, count).Select(_ => new StringBuilder()).ToArray();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminUser}:{AdminPassword}")));
    }

    public IReadOnlyList<RabbitMqNode> Nodes { get; }

    /// <summary>The administrator (management API, every vhost permission), created at the cluster's first boot.</summary>
    public string AdminUser => "edge-admin";

    public string AdminPassword { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Every node's MQTT listener, comma-separated (as <c>--mqtt-url</c> takes them).</summary>
    public string MqttUrls => string.Join(',', Nodes.Select(n => n.MqttUrl));

    /// <summary>Every node's AMQP listener with the administrator's credentials, comma-separated (as <c>--amqp-url</c> takes them).</summary>
    public string AmqpUrls => string.Join(',', Nodes.Select(n => $"amqp://{AdminUser}:{AdminPassword}@127.0.0.1:{n.AmqpPort}/"));

    /// <summary>Why RabbitMQ cannot run here, or null.</summary>
    public static string? Missing() => File.Exists(Path.Combine(Home, "rabbitmq-server")) ? null : "RabbitMQ is not installed (apt-get install rabbitmq-server)";

    public static async Task<RabbitMqCluster> StartAsync(int nodes = 3)
    {
        if (Missing() is { } missing)
        {
            throw new InvalidOperationException(missing);
        }

        var cluster = new RabbitMqCluster(nodes);
        try
        {
            cluster.Start(0);
            await cluster.WaitRunningAsync(1, TimeSpan.FromSeconds(120));
            for (var i = 1; i < nodes; i++)
            {
                cluster.Start(i);
            }

            await cluster.WaitRunningAsync(nodes, TimeSpan.FromSeconds(180));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>What node <paramref name="index"/> printed, for a failing test's message.</summary>
    public string Output(int index)
    {
        lock (_output[index])
        {
            return _output[index].ToString();
        }
    }

    /// <summary>kill -9 of node <paramref name="index"/> (the Erlang VM and its helpers).</summary>
    public void Kill(int index)
    {
        var process = _processes[index];
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    /// <summary>Starts node <paramref name="index"/> again (after <see cref="Kill"/>) and waits until the cluster runs it.</summary>
    public async Task RestartAsync(int index)
    {
        Start(index);
        await WaitRunningAsync(Nodes.Count, TimeSpan.FromSeconds(180));
    }

    /// <summary>Node <paramref name="index"/>'s resident memory (VmRSS of its Erlang VM), in MiB.</summary>
    public double ResidentMebibytes(int index)
    {
        var process = _processes[index] ?? throw new InvalidOperationException($"node {index} is not running");
        var beam = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsDigit)).Select(p => int.Parse(p!, CultureInfo.InvariantCulture))
            .FirstOrDefault(pid => ParentOf(pid) == process.Id && Command(pid).Contains("beam", StringComparison.Ordinal));
        return ResidentMemory.Mebibytes(beam == 0 ? process.Id : beam);
    }

    /// <summary>A GET on the management API of the first running node.</summary>
    public async Task<JsonNode?> GetAsync(string path)
    {
        Exception? last = null;
        for (var i = 0; i < Nodes.Count; i++)
        {
            if (_processes[i] is not { HasExited: false })
            {
                continue;
            }

            try
            {
                return JsonNode.Parse(await _http.GetStringAsync($"{Nodes[i].ManagementUrl}/api/{path}"));
            }
            catch (HttpRequestException ex)
            {
                last = ex;
            }
        }

        throw new InvalidOperationException($"no RabbitMQ node answered GET /api/{path}", last);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Nodes.Count; i++)
        {
            Kill(i);
            _processes[i]?.Dispose();
        }

        // The port mapper daemonized itself at the first node's start: stopped here, nobody else uses its port.
        try
        {
            using var epmd = Process.Start(new ProcessStartInfo("epmd", ["-port", _epmdPort.ToString(CultureInfo.InvariantCulture), "-kill"]) { RedirectStandardOutput = true, RedirectStandardError = true });
            if (epmd is not null)
            {
                await epmd.WaitForExitAsync();
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No epmd on the path: nothing started one.
        }

        _http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A node's last log write raced the delete; the temporary folder is left.
        }
    }

    private void Start(int index)
    {
        var node = Nodes[index];
        var folder = Path.Combine(_directory, $"node{index + 1}");
        Directory.CreateDirectory(folder);
        var cookie = Path.Combine(folder, ".erlang.cookie");
        if (!File.Exists(cookie))
        {
            File.WriteAllText(cookie, _cookie);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(cookie, UnixFileMode.UserRead); // Erlang refuses a cookie others may read
            }
        }

        File.WriteAllText(Path.Combine(folder, "enabled_plugins"), "[rabbitmq_mqtt,rabbitmq_management].\n");
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"listeners.tcp.default = 127.0.0.1:{node.AmqpPort}")
            .AppendLine(CultureInfo.InvariantCulture, $"mqtt.listeners.tcp.default = 127.0.0.1:{node.MqttPort}")
            .AppendLine(CultureInfo.InvariantCulture, $"management.tcp.port = {node.ManagementPort}")
            .AppendLine("management.tcp.ip = 127.0.0.1")
            .AppendLine("loopback_users = none")
            .AppendLine(CultureInfo.InvariantCulture, $"default_user = {AdminUser}")
            .AppendLine(CultureInfo.InvariantCulture, $"default_pass = {AdminPassword}")
            .AppendLine("default_user_tags.administrator = true")
            .AppendLine("mqtt.allow_anonymous = false")
            // Persistent sessions get a replicated queue, which outlives the loss of the node a device was on.
            .AppendLine("mqtt.durable_queue_type = quorum")
            .AppendLine("disk_free_limit.absolute = 50MB")
            .AppendLine("cluster_formation.peer_discovery_backend = classic_config")
            .AppendLine(CultureInfo.InvariantCulture, $"cluster_formation.classic_config.nodes.1 = {Nodes[0].Name}")
            .AppendLine("log.console = true")
            .AppendLine("log.console.level = warning")
            .AppendLine("log.file = false");
        File.WriteAllText(Path.Combine(folder, "rabbitmq.conf"), config.ToString());

        var info = new ProcessStartInfo(Path.Combine(Home, "rabbitmq-server")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
        info.Environment["HOME"] = folder;
        info.Environment["RABBITMQ_NODENAME"] = node.Name;
        info.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(folder, "mnesia");
        info.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(folder, "log");
        info.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(folder, "enabled_plugins");
        info.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(folder, "rabbitmq.conf");
        info.Environment["RABBITMQ_DIST_PORT"] = node.DistributionPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["RABBITMQ_PID_FILE"] = Path.Combine(folder, "pid");
        info.Environment["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = info };
        var output = _output[index];
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[index] = process;
    }

    /// <summary>Waits until <paramref name="count"/> nodes of the cluster report running (asked of any live node).</summary>
    private async Task WaitRunningAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < timeout)
        {
            for (var i = 0; i < Nodes.Count; i++)
            {
                if (_processes[i] is { HasExited: true } exited && i == 0 && count == 1)
                {
                    throw new InvalidOperationException($"RabbitMQ node {Nodes[i].Name} exited with {exited.ExitCode}:\n{Output(i)}");
                }
            }

            try
            {
                var nodes = (await GetAsync("nodes"))!.AsArray();
                var running = nodes.Count(n => n!["running"]?.GetValue<bool>() == true);
                last = $"{running} of {nodes.Count} running";
                if (running >= count && ListeningCount() >= count)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                last = ex.Message;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"RabbitMQ: {count} nodes not running within {timeout} ({last}):\n{string.Join("\n---\n", Enumerable.Range(0, Nodes.Count).Select(Output))}");
    }

    /// <summary>How many live nodes take connections on all of their AMQP, MQTT and management ports.</summary>
    private int ListeningCount() => Enumerable.Range(0, Nodes.Count).Count(i => _processes[i] is { HasExited: false }
        && new[] { Nodes[i].AmqpPort, Nodes[i].MqttPort, Nodes[i].ManagementPort }.All(Listening));

    private static bool Listening(int port)
    {
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
    }
}
