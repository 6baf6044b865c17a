using System.Diagnostics;
using System.Net;

namespace EdgeInference.Fleet.Simulator;

/// <summary>
/// Runs many <see cref="SimulatedDevice"/>s in one process: connects them a bounded number at a time, spread over
/// loopback source addresses, and counts what they do (<see cref="Counts"/>). Devices in the offline share are
/// built but never connect.
/// </summary>
public sealed class DeviceSimulator : IAsyncDisposable
{
    private readonly SimulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly List<SimulatedDevice> _devices = [];
    private readonly List<SimulatedDevice> _online = [];

    /// <param name="credentials">Each device's id and secret.</param>
    public DeviceSimulator(IEnumerable<(string Id, string Secret)> credentials, SimulatorOptions options, TimeProvider time, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _options = options;
        _time = time;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
        var random = new Random(options.Seed);
        var index = 0;
        foreach (var (id, secret) in credentials)
        {
            var source = options.SourceAddresses > 1 ? new IPAddress([127, 0, 0, (byte)(2 + index % Math.Min(options.SourceAddresses, 250))]) : IPAddress.Loopback;
            var device = new SimulatedDevice(id, secret, options, Counts, _http, time, new Random(random.Next()), source);
            _devices.Add(device);
            if (random.NextDouble() >= options.OfflineShare)
            {
                _online.Add(device);
            }

            index++;
        }
    }

    public SimulatorCounts Counts { get; } = new();

    public IReadOnlyList<SimulatedDevice> Devices => _devices;

    /// <summary>The devices that come online (all but the offline share).</summary>
    public IReadOnlyList<SimulatedDevice> Online => _online;

    /// <summary>Connects every online device, <see cref="SimulatorOptions.ConnectConcurrency"/> at a time; returns how long it took.</summary>
    public async Task<TimeSpan> ConnectAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(_online, new ParallelOptions { MaxDegreeOfParallelism = _options.ConnectConcurrency, CancellationToken = cancellationToken },
            async (device, token) => await device.ConnectAsync(token).ConfigureAwait(false)).ConfigureAwait(false);
        return clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(_devices, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (device, _) => await device.DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
