using System.Globalization;
using System.Text;
using EdgeInference.Agent.Drift;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Sensors;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Metrics;
using EdgeInference.Runtime.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeInference.Agent.Diagnostics;

/// <summary><c>GET /metrics</c> in the Prometheus text format: per model version, the sensors, the prediction log, and the process.</summary>
internal sealed class PrometheusExporter
{
    private readonly ModelRepository _models;
    private readonly AgentInfo _info;
    private readonly PredictionLogStore? _log;
    private readonly DriftMonitor? _drift;
    private readonly SensorHub? _sensors;

    public PrometheusExporter(ModelRepository models, AgentInfo info, PredictionLogStore? log = null, DriftMonitor? drift = null, SensorHub? sensors = null)
    {
        _sensors = sensors;
        _models = models;
        _info = info;
        _log = log;
        _drift = drift;
    }

    public void Map(IEndpointRouteBuilder app) => app.MapGet("/metrics", WriteAsync);

    public string Render()
    {
        var text = new StringBuilder(4096);
        Help(text, "edge_agent_info", "gauge", "The agent's version and its ONNX Runtime version.");
        text.Append(CultureInfo.InvariantCulture, $"edge_agent_info{{version=\"{_info.Version}\",onnxruntime=\"{_info.OnnxRuntimeVersion}\"}} 1\n");

        var versions = _models.Models.SelectMany(m => m.Versions).ToArray();
        Help(text, "edge_model_ready", "gauge", "1 when the model version serves, 0 when it failed or is unloading.");
        Each(text, versions, "edge_model_ready", v => v.State == ModelVersionState.Ready ? 1 : 0);
        Help(text, "edge_model_execution_provider", "gauge", "The execution provider the model version runs on (always 1).");
        foreach (var v in versions)
        {
            text.Append(CultureInfo.InvariantCulture, $"edge_model_execution_provider{{{Labels(v)},provider=\"{v.ExecutionProvider}\"}} 1\n");
        }

        Help(text, "edge_model_requests_total", "counter", "Inference requests, failed ones included.");
        Each(text, versions, "edge_model_requests_total", v => v.Metrics.Requests);
        Help(text, "edge_model_errors_total", "counter", "Inference requests that failed.");
        Each(text, versions, "edge_model_errors_total", v => v.Metrics.Errors);
        Help(text, "edge_model_queue_depth", "gauge", "Requests waiting for a micro-batch.");
        Each(text, versions, "edge_model_queue_depth", v => v.Metrics.QueueDepth);
        Help(text, "edge_model_cache_hits_total", "counter", "Prediction cache hits.");
        Each(text, versions, "edge_model_cache_hits_total", v => v.Metrics.CacheHits);
        Help(text, "edge_model_cache_misses_total", "counter", "Prediction cache misses.");
        Each(text, versions, "edge_model_cache_misses_total", v => v.Metrics.CacheMisses);
        Help(text, "edge_model_request_duration_seconds", "histogram", "Latency of successful requests, queueing included.");
        foreach (var v in versions)
        {
            HistogramLines(text, "edge_model_request_duration_seconds", Labels(v), v.Metrics.Latency);
        }

        Help(text, "edge_model_batch_size", "histogram", "Rows per ONNX Runtime run.");
        foreach (var v in versions)
        {
            HistogramLines(text, "edge_model_batch_size", Labels(v), v.Metrics.BatchSize);
        }

        var windows = (_drift?.Models ?? []).Select(m => (m.Model, Window: m.LastWindow)).Where(w => w.Window is not null).ToArray();
        if (windows.Length > 0)
        {
            Help(text, "edge_model_drift", "gauge", "1 when the last drift window of the model version crossed a threshold.");
            foreach (var (v, window) in windows)
            {
                text.Append(CultureInfo.InvariantCulture, $"edge_model_drift{{{Labels(v)}}} {(window!.Drift ? 1 : 0)}\n");
            }

            Help(text, "edge_model_drift_psi", "gauge", "Population stability index of each feature in the last drift window.");
            foreach (var (v, window) in windows)
            {
                foreach (var feature in window!.Features.Where(f => f.Psi is not null))
                {
                    text.Append(CultureInfo.InvariantCulture, $"edge_model_drift_psi{{{Labels(v)},feature=\"{Escape(feature.Name)}\"}} {feature.Psi:0.######}\n");
                }
            }
        }

        if (_sensors is not null)
        {
            var sensors = _sensors.Describe(readings: true);
            Help(text, "edge_sensor_up", "gauge", "1 when the sensor answered its last open or read, 0 when it does not answer.");
            foreach (var sensor in sensors)
            {
                text.Append(CultureInfo.InvariantCulture, $"edge_sensor_up{{sensor=\"{Escape(sensor.Name)}\",chip=\"{sensor.Chip}\"}} {(sensor.State == SensorState.Ok ? 1 : 0)}\n");
            }

            Help(text, "edge_sensor_reading", "gauge", "The sensor's latest reading of each quantity, in the unit its name ends with.");
            foreach (var sensor in sensors)
            {
                foreach (var (name, value) in sensor.Readings ?? [])
                {
                    text.Append(CultureInfo.InvariantCulture, $"edge_sensor_reading{{sensor=\"{Escape(sensor.Name)}\",chip=\"{sensor.Chip}\",reading=\"{name}\"}} {value:0.######}\n");
                }
            }
        }

        if (_log is not null)
        {
            Help(text, "edge_prediction_log_records", "gauge", "Records in the prediction log.");
            text.Append(CultureInfo.InvariantCulture, $"edge_prediction_log_records {_log.Count}\n");
            Help(text, "edge_prediction_log_acknowledged_sequence", "gauge", "Highest durable record sequence number.");
            text.Append(CultureInfo.InvariantCulture, $"edge_prediction_log_acknowledged_sequence {_log.Acknowledged}\n");
            Help(text, "edge_prediction_log_pending", "gauge", "Records waiting to be written.");
            text.Append(CultureInfo.InvariantCulture, $"edge_prediction_log_pending {_log.Pending}\n");
            Help(text, "edge_prediction_log_commits_total", "counter", "Durable commits of the prediction log (group commits).");
            text.Append(CultureInfo.InvariantCulture, $"edge_prediction_log_commits_total {_log.Commits}\n");
            Help(text, "edge_prediction_log_dropped_total", "counter", "Records dropped, by reason.");
            text.Append(CultureInfo.InvariantCulture, $"edge_prediction_log_dropped_total{{reason=\"queue_full\"}} {_log.DroppedQueueFull}\n");
            text.Append(CultureInfo.InvariantCulture, $"edge_prediction_log_dropped_total{{reason=\"policy\"}} {_log.DroppedByPolicy}\n");
        }

        Help(text, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        text.Append(CultureInfo.InvariantCulture, $"process_resident_memory_bytes {ProcessStats.ResidentBytes()}\n");
        Help(text, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds.");
        text.Append(CultureInfo.InvariantCulture, $"process_cpu_seconds_total {ProcessStats.CpuSeconds():0.###}\n");
        Help(text, "dotnet_gc_allocated_bytes_total", "counter", "Managed bytes allocated since the process started.");
        text.Append(CultureInfo.InvariantCulture, $"dotnet_gc_allocated_bytes_total {GC.GetTotalAllocatedBytes(precise: true)}\n");
        Help(text, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
        text.Append(CultureInfo.InvariantCulture, $"process_start_time_seconds {_info.StartedAt.ToUnixTimeSeconds()}\n");
        return text.ToString();
    }

    private static string Labels(ModelVersion v) => $"model=\"{Escape(v.ModelName)}\",version=\"{v.VersionText}\"";

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static void Help(StringBuilder text, string name, string type, string help) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");

    private static void Each(StringBuilder text, IEnumerable<ModelVersion> versions, string name, Func<ModelVersion, long> value)
    {
        foreach (var v in versions)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{{Labels(v)}}} {value(v)}\n");
        }
    }

    private static void HistogramLines(StringBuilder text, string name, string labels, Histogram histogram)
    {
        var cumulative = histogram.CumulativeCounts();
        for (var i = 0; i < histogram.UpperBounds.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"{histogram.UpperBounds[i]}\"}} {cumulative[i]}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative[^1]}\n");
        text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{{labels}}} {histogram.Sum}\n");
        text.Append(CultureInfo.InvariantCulture, $"{name}_count{{{labels}}} {histogram.Count}\n");
    }

    private Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return context.Response.WriteAsync(Render(), context.RequestAborted);
    }
}
