using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using EdgeInference.Fleet.Simulator;

// edge-sim: thousands of simulated devices against a fleet's broker. See fleet/README.md.
const string Usage = """
    edge-sim --broker mqtt://HOST:PORT[,mqtt://HOST:PORT2…] --devices N [--prefix sim-]
             (--credentials FILE | --enroll FLEET_URL [--token T] [--save FILE])
             [--protocol 5|3.1.1] [--model M] [--version V] [--telemetry-interval S] [--step-delay MS] [--probation S]
             [--failure-rate R] [--offline-share R] [--slow-share R] [--duplicate-share R] [--download] [--persistent-session]
             [--source-addresses N] [--connect-concurrency N] [--seed N] [--duration S]
    """;

var options = new SimulatorOptions();
string? broker = null, credentialsFile = null, enrollUrl = null, save = null, prefix = "sim-";
var token = Environment.GetEnvironmentVariable("EDGEFLEET_TOKEN");
int devices = 0;
TimeSpan? duration = null;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        var option = args[i];
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{option} needs a value");
        double Number(double min, double max)
        {
            var text = Value();
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw new ArgumentException($"{option} '{text}' is not a number from {min} to {max}");
        }

        int Whole(int min)
        {
            var text = Value();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min
                ? value
                : throw new ArgumentException($"{option} '{text}' is not a whole number of at least {min}");
        }

        switch (args[i])
        {
            case "--broker": broker = Value(); break;
            case "--devices": devices = Whole(1); break;
            case "--prefix": prefix = Value(); break;
            case "--credentials": credentialsFile = Value(); break;
            case "--enroll": enrollUrl = Value(); break;
            case "--token": token = Value(); break;
            case "--save": save = Value(); break;
            case "--protocol": options.Protocol = Value() is var protocol && protocol is "5" or "3.1.1" ? protocol : throw new ArgumentException("--protocol is 5 or 3.1.1"); break;
            case "--model": options.Model = Value(); break;
            case "--version": options.Version = Value(); break;
            case "--telemetry-interval": options.TelemetryInterval = TimeSpan.FromSeconds(Number(0, 86400)); break;
            case "--step-delay": options.StepDelay = TimeSpan.FromMilliseconds(Number(0, 3_600_000)); break;
            case "--probation": options.Probation = TimeSpan.FromSeconds(Number(0, 86400)); break;
            case "--failure-rate": options.FailureRate = Number(0, 1); break;
            case "--offline-share": options.OfflineShare = Number(0, 1); break;
            case "--slow-share": options.SlowShare = Number(0, 1); break;
            case "--duplicate-share": options.DuplicateShare = Number(0, 1); break;
            case "--download": options.Download = true; break;
            case "--persistent-session": options.PersistentSession = true; break;
            case "--source-addresses": options.SourceAddresses = Whole(1); break;
            case "--connect-concurrency": options.ConnectConcurrency = Whole(1); break;
            case "--seed": options.Seed = Whole(0); break;
            case "--duration": duration = TimeSpan.FromSeconds(Number(0, 31_536_000)); break;
            case "--help" or "-h": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"unknown option {option}");
        }
    }

    if (broker is null || devices <= 0 || (credentialsFile is null) == (enrollUrl is null))
    {
        throw new ArgumentException("give --broker, --devices N > 0, and either --credentials FILE or --enroll FLEET_URL");
    }

    var uris = broker.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => new Uri(url)).ToList();
    if (uris.Count == 0 || uris.Any(uri => uri.Scheme != "mqtt") || uris.Any(uri => uri.Host != uris[0].Host))
    {
        throw new ArgumentException($"--broker {broker} is not mqtt://HOST:PORT (or a cluster's mqtt://HOST:PORT1,mqtt://HOST:PORT2,… on one host)");
    }

    options.Host = uris[0].Host;
    options.Port = uris[0].Port > 0 ? uris[0].Port : 1883;
    options.Ports = uris.Count > 1 ? uris.Select(uri => uri.Port > 0 ? uri.Port : 1883).ToArray() : [];
}
catch (Exception ex) when (ex is ArgumentException or UriFormatException)
{
    Console.Error.WriteLine($"edge-sim: {ex.Message}\n{Usage}");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var http = new HttpClient();
List<(string Id, string Secret)> credentials;
try
{
    credentials = credentialsFile is not null
        ? File.ReadLines(credentialsFile).Select(line => line.Split(' ', 2)).Where(p => p.Length == 2).Select(p => (p[0], p[1])).Take(devices).ToList()
        : await EnrollAsync(enrollUrl!, token, prefix, devices, save, http, stop.Token);
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException or InvalidOperationException or JsonException or KeyNotFoundException)
{
    Console.Error.WriteLine($"edge-sim: {ex.Message}");
    return 1;
}

if (credentials.Count == 0)
{
    Console.Error.WriteLine($"edge-sim: {credentialsFile} holds no 'id secret' lines");
    return 1;
}

await using var simulator = new DeviceSimulator(credentials, options, TimeProvider.System, http);
TimeSpan connected;
try
{
    connected = await simulator.ConnectAsync(stop.Token);
}
catch (Exception ex) when (ex is MQTTnet.Adapter.MqttConnectingFailedException or MQTTnet.Exceptions.MqttCommunicationException)
{
    Console.Error.WriteLine($"edge-sim: cannot connect to {broker}: {ex.Message}");
    return 1;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{simulator.Online.Count} of {credentials.Count} devices connected in {connected.TotalSeconds:F1} s"));
var clock = Stopwatch.StartNew();
try
{
    while (duration is null || clock.Elapsed < duration)
    {
        await Task.Delay(TimeSpan.FromSeconds(5), stop.Token);
        var c = simulator.Counts;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{clock.Elapsed.TotalSeconds:F0} s: connected {c.Connected}, telemetry {c.Telemetry}, commands {c.Commands} (duplicates {c.Duplicates}), installs {c.Installs.Values.Sum()} on {c.Installs.Count} devices, failures {c.Failures}, replies {c.Replies}, errors {c.Errors}{(c.LastError is { } e ? $" (last: {e})" : "")}"));
    }
}
catch (OperationCanceledException)
{
}

return 0;

// Enrolled through the fleet's API, as an operator would, a few at a time.
static async Task<List<(string Id, string Secret)>> EnrollAsync(string fleet, string? token, string prefix, int devices, string? save, HttpClient http, CancellationToken cancellationToken)
{
    var enrolled = new (string, string)[devices];
    await Parallel.ForAsync(0, devices, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
    {
        var id = $"{prefix}{i:D5}";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{fleet.TrimEnd('/')}/api/v1/devices/{id}/enroll");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"enrolling {id} at {fleet}: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        enrolled[i] = (id, json.RootElement.GetProperty("secret").GetString()!);
    });
    if (save is not null)
    {
        await File.WriteAllLinesAsync(save, enrolled.Select(c => $"{c.Item1} {c.Item2}"), cancellationToken);
    }

    return [.. enrolled];
}
