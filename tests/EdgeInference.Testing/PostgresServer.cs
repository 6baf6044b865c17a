using System.Diagnostics;

namespace EdgeInference.Testing;

/// <summary>
/// Debian's PostgreSQL as a child process: a fresh cluster (<c>initdb</c>) in a temporary folder, started with
/// <c>pg_ctl</c> on a free loopback port, with one database per test. No systemd and no shared server: as root the
/// cluster runs as the <c>postgres</c> user (PostgreSQL refuses root), otherwise as the current user.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;
    private int _databases;

    private PostgresServer(string directory, string bin, int port)
    {
        _directory = directory;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Why PostgreSQL cannot run here, or null.</summary>
    public static string? Missing() => FindBin() is null ? "PostgreSQL is not installed (apt-get install postgresql)" : null;

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBin() ?? throw new InvalidOperationException(Missing());
        var directory = TestPaths.NewTempDirectory("postgres");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111); // the cluster runs as postgres when the tests run as root
        }
        var server = new PostgresServer(directory, bin, FreePort.Next());
        await server.RunAsync("initdb", "-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        await server.RunAsync("pg_ctl", "-D", server.DataDirectory, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {server.Port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");
        return server;
    }

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"test{Interlocked.Increment(ref _databases)}";
        await RunAsync("createdb", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name);
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name};Pooling=true";
    }

    public async Task StopAsync() => await RunAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "stop");

    public async Task StartAgainAsync() =>
        await RunAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        Directory.Delete(_directory, recursive: true);
    }

    private string DataDirectory => Path.Combine(_directory, "data");

    private static string? FindBin() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).Order(StringComparer.Ordinal).LastOrDefault()
            : null;

    private async Task RunAsync(string tool, params string[] arguments)
    {
        var root = Environment.UserName == "root";
        var info = new ProcessStartInfo(root ? "runuser" : Path.Combine(_bin, tool)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (root)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", Path.Combine(_bin, tool) })
            {
                info.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var log = Path.Combine(_directory, "server.log");
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {await error}{await output}{(File.Exists(log) ? File.ReadAllText(log) : "")}");
        }
    }
}
