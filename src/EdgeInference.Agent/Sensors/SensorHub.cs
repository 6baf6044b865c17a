using System.Text;
using EdgeInference.Contracts;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Sensors;

/// <summary>
/// The configured sensors: each opened through its binding on first use, read one caller at a time, and watched. A chip
/// that fails to open or read is closed, marked <see cref="SensorState.NotAnswering"/> with the error, and opened afresh
/// (re-initialized) at the next read: a loose wire or a power glitch heals by itself, and never stops the agent.
/// </summary>
public sealed class SensorHub : IDisposable
{
    private readonly Dictionary<string, Entry> _sensors = new(StringComparer.Ordinal);
    private readonly ISensorBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<SensorHub> _logger;

    public SensorHub(SensorOptions options, ISensorBus bus, TimeProvider time, ILogger<SensorHub> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var device in options.Devices)
        {
            _sensors.Add(device.Name, new Entry(device));
        }

        Names = options.Devices.Select(d => d.Name).ToArray();
        _bus = bus;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>How many values one window of <paramref name="name"/> holds: samples × values per sample.</summary>
    public int WindowLength(string name) => Find(name).Options.Samples * SensorChips.ValuesPerSample(Find(name).Options);

    /// <summary>
    /// Reads one window of <paramref name="name"/> into <paramref name="destination"/>: its samples in order, each paced
    /// 1/RateHz after the window's start, values of a sample side by side. Throws <see cref="IOException"/> naming the
    /// sensor when it does not answer.
    /// </summary>
    public async Task ReadWindowAsync(string name, float[] destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var entry = Find(name);
        var options = entry.Options;
        var count = SensorChips.ValuesPerSample(options);
        var rate = SensorChips.RateHz(options);
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var driver = Open(entry);
            driver.Check();
            var started = _time.GetTimestamp();
            for (var i = 0; i < options.Samples; i++)
            {
                var wait = TimeSpan.FromSeconds(i / rate) - _time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }

                driver.Read(destination.AsSpan(i * count, count));
            }

            Answered(entry, destination.AsSpan((options.Samples - 1) * count, count));
        }
        catch (Exception ex) when (IsHardwareFault(ex))
        {
            Failed(entry, ex);
            throw new IOException($"sensor '{name}' ({options.Chip} on {SensorChips.Where(options)}) does not answer: {ex.Message}", ex);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Reads one sample of each sensor not busy with a window: their health and latest readings.</summary>
    public void Poll(CancellationToken cancellationToken)
    {
        foreach (var entry in _sensors.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!entry.Gate.Wait(0, cancellationToken))
            {
                continue;
            }

            try
            {
                var sample = new float[SensorChips.ValuesPerSample(entry.Options)];
                Open(entry).Read(sample);
                Answered(entry, sample);
            }
            catch (Exception ex) when (IsHardwareFault(ex))
            {
                Failed(entry, ex);
            }
            finally
            {
                entry.Gate.Release();
            }
        }
    }

    /// <summary>Each sensor's health, with its latest readings when <paramref name="readings"/> (telemetry).</summary>
    public List<SensorStatus> Describe(bool readings) => _sensors.Values.Select(e =>
    {
        lock (e.State)
        {
            return new SensorStatus
            {
                Name = e.Options.Name,
                Chip = e.Options.Chip,
                State = e.State.Answering ? SensorState.Ok : SensorState.NotAnswering,
                Error = e.State.Answering ? null : e.State.Error ?? "not read yet",
                ReadAt = e.State.ReadAt,
                Readings = readings && e.State.Readings is { } latest ? new Dictionary<string, double>(latest, StringComparer.Ordinal) : null,
            };
        }
    }).ToList();

    /// <summary>What the status says of the sensors (each one's state and error): a change means it is published again.</summary>
    public string StatusKey()
    {
        var key = new StringBuilder();
        foreach (var entry in _sensors.Values)
        {
            lock (entry.State)
            {
                key.Append('|').Append(entry.Options.Name).Append('/').Append(entry.State.Answering).Append('/').Append(entry.State.Error);
            }
        }

        return key.ToString();
    }

    public void Dispose()
    {
        foreach (var entry in _sensors.Values)
        {
            entry.Driver?.Dispose();
            entry.Gate.Dispose();
        }
    }

    /// <summary>The failures that mean the chip or its bus did not answer (the Linux drivers throw IOException; the ADS1115 binding times out).</summary>
    private static bool IsHardwareFault(Exception ex) => ex is IOException or TimeoutException or UnauthorizedAccessException or PlatformNotSupportedException;

    private Entry Find(string name) =>
        _sensors.TryGetValue(name, out var entry) ? entry : throw new InvalidOperationException($"no sensor named '{name}' in Sensors:Devices");

    private SensorDriver Open(Entry entry) => entry.Driver ??= SensorChips.Open(_bus, entry.Options);

    private void Answered(Entry entry, ReadOnlySpan<float> sample)
    {
        var readings = new Dictionary<string, double>(StringComparer.Ordinal);
        entry.Driver!.Summarize(sample, readings);
        bool was;
        lock (entry.State)
        {
            was = entry.State.Answering;
            entry.State.Answering = true;
            entry.State.Error = null;
            entry.State.ReadAt = _time.GetUtcNow();
            entry.State.Readings = readings;
        }

        if (!was)
        {
            SensorLog.Answering(_logger, entry.Options.Name, entry.Options.Chip, SensorChips.Where(entry.Options));
        }
    }

    private void Failed(Entry entry, Exception ex)
    {
        // Closed, so the next read opens and re-initializes the chip (it may have lost power).
        entry.Driver?.Dispose();
        entry.Driver = null;
        bool changed;
        lock (entry.State)
        {
            changed = entry.State.Answering || entry.State.Error != ex.Message;
            entry.State.Answering = false;
            entry.State.Error = ex.Message;
        }

        if (changed)
        {
            SensorLog.NotAnswering(_logger, entry.Options.Name, entry.Options.Chip, SensorChips.Where(entry.Options), ex.Message);
        }
    }

    private sealed class Entry(SensorDeviceOptions options)
    {
        public SensorDeviceOptions Options { get; } = options;

        /// <summary>One open or read at a time: the binding and the bus are not for concurrent use.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Only touched under <see cref="Gate"/>.</summary>
        public SensorDriver? Driver { get; set; }

        public Health State { get; } = new();
    }

    private sealed class Health
    {
        public bool Answering { get; set; }

        public string? Error { get; set; }

        public DateTimeOffset? ReadAt { get; set; }

        public Dictionary<string, double>? Readings { get; set; }
    }
}
