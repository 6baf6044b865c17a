using EdgeInference.Agent.Updates;
using System.Runtime.CompilerServices;
using EdgeInference.Agent.Diagnostics;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Sensors;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Metrics;
using EdgeInference.Runtime.Models;

namespace EdgeInference.Agent.Cloud;

/// <summary>
/// Turns the running counters into one telemetry window: for each model version the requests, errors,
/// throughput, latency percentiles, batch sizes and cache hit rate since the previous window; for the
/// process and the device their CPU, memory, disk and temperature; the store-and-forward backlog; and each sensor's health and latest readings.
/// </summary>
public sealed class TelemetryCollector
{
    private readonly string _deviceId;
    private readonly ModelRepository _models;
    private readonly OutboxStore _outbox;
    private readonly PredictionLogStore? _predictions;
    private readonly HardwareProbe _hardware;
    private readonly string _dataDirectory;
    private readonly TimeProvider _time;
    private readonly InstalledPackages? _installed;
    private readonly SensorHub? _sensors;
    private readonly ConditionalWeakTable<ModelVersion, Snapshot> _previous = [];
    private long _windowStarted;
    private double _cpuSecondsAtStart;

    public TelemetryCollector(
        string deviceId, ModelRepository models, OutboxStore outbox, PredictionLogStore? predictions, HardwareProbe hardware, string dataDirectory, TimeProvider time,
        InstalledPackages? installed = null, SensorHub? sensors = null)
    {
        _sensors = sensors;
        _installed = installed;
        _deviceId = deviceId;
        _models = models;
        _outbox = outbox;
        _predictions = predictions;
        _hardware = hardware;
        _dataDirectory = dataDirectory;
        _time = time;
        _windowStarted = time.GetTimestamp();
        _cpuSecondsAtStart = ProcessStats.CpuSeconds();
    }

    /// <summary>The window since the previous call (or since start), and starts the next one.</summary>
    public TelemetryMessage Collect()
    {
        var now = _time.GetTimestamp();
        var seconds = Math.Max(_time.GetElapsedTime(_windowStarted, now).TotalSeconds, 1e-6);
        var cpu = ProcessStats.CpuSeconds();
        var message = new TelemetryMessage
        {
            Timestamp = _time.GetUtcNow(),
            DeviceId = _deviceId,
            WindowSeconds = Math.Round(seconds, 3),
            Process = new ProcessTelemetry
            {
                CpuPercent = Math.Round(100 * (cpu - _cpuSecondsAtStart) / seconds, 2),
                RssBytes = ProcessStats.ResidentBytes(),
                ManagedHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
            },
            Device = new DeviceTelemetry
            {
                DiskFreeBytes = HardwareProbe.DiskFreeBytes(_dataDirectory),
                TemperatureCelsius = _hardware.TemperatureCelsius(),
                LoadAverage1m = _hardware.LoadAverage1m(),
            },
            Outbox = new OutboxTelemetry
            {
                Depth = Math.Max(0, _outbox.Acknowledged - _outbox.ReadCheckpoint(ForwardingService.CheckpointName)) + _outbox.Pending,
                Dropped = _outbox.DroppedByPolicy + _outbox.DroppedQueueFull,
                PredictionsBacklog = _predictions is null ? 0 : Math.Max(0, _predictions.Acknowledged - _predictions.ReadCheckpoint(ForwardingService.CheckpointName)) + _predictions.Pending,
                PredictionsDropped = _predictions is null ? 0 : _predictions.DroppedByPolicy + _predictions.DroppedQueueFull,
            },
            Sensors = _sensors?.Describe(readings: true),
        };

        foreach (var version in _models.Models.SelectMany(m => m.Versions).Where(v => v.State == ModelVersionState.Ready))
        {
            var current = Snapshot.Of(version.Metrics);
            var previous = _previous.TryGetValue(version, out var p) ? p : Snapshot.Empty(version.Metrics);
            _previous.AddOrUpdate(version, current);
            var window = Window(version, previous, current, seconds);
            window.PackageVersion = _installed?.VersionOf(version.ModelName, version.Version);
            message.Models.Add(window);
        }

        _windowStarted = now;
        _cpuSecondsAtStart = cpu;
        return message;
    }

    private static ModelTelemetry Window(ModelVersion version, Snapshot previous, Snapshot current, double seconds)
    {
        var requests = current.Requests - previous.Requests;
        var latency = new long[current.Latency.Length];
        for (var i = 0; i < latency.Length; i++)
        {
            latency[i] = current.Latency[i] - previous.Latency[i];
        }

        var runs = current.BatchCount - previous.BatchCount;
        var lookups = current.CacheHits + current.CacheMisses - previous.CacheHits - previous.CacheMisses;
        var bounds = version.Metrics.Latency.UpperBounds;
        return new ModelTelemetry
        {
            Model = version.ModelName,
            Version = version.Version,
            ExecutionProvider = version.ExecutionProvider,
            Requests = requests,
            Errors = current.Errors - previous.Errors,
            RequestsTotal = current.Requests,
            ErrorsTotal = current.Errors,
            Throughput = Math.Round(requests / seconds, 3),
            LatencyMs = latency[^1] == 0 ? null : new LatencyPercentiles
            {
                P50 = Milliseconds(Histogram.Quantile(bounds, latency, 0.50)),
                P95 = Milliseconds(Histogram.Quantile(bounds, latency, 0.95)),
                P99 = Milliseconds(Histogram.Quantile(bounds, latency, 0.99)),
            },
            BatchSizeMean = runs == 0 ? null : Math.Round((current.BatchSum - previous.BatchSum) / runs, 3),
            CacheHitRate = lookups == 0 ? null : Math.Round((double)(current.CacheHits - previous.CacheHits) / lookups, 4),
            QueueDepth = version.Metrics.QueueDepth,
        };
    }

    private static double Milliseconds(double seconds) => Math.Round(seconds * 1000, 4);

    private sealed record Snapshot(long Requests, long Errors, long[] Latency, long BatchCount, double BatchSum, long CacheHits, long CacheMisses)
    {
        public static Snapshot Of(ModelMetrics metrics) => new(
            metrics.Requests, metrics.Errors, metrics.Latency.CumulativeCounts(), metrics.BatchSize.Count, metrics.BatchSize.Sum, metrics.CacheHits, metrics.CacheMisses);

        public static Snapshot Empty(ModelMetrics metrics) => new(0, 0, new long[metrics.Latency.UpperBounds.Count + 1], 0, 0, 0, 0);
    }
}
