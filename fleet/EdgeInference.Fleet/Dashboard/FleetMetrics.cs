using EdgeInference.Contracts;
using System.Globalization;
using System.Text;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format: the fleet's devices, every model version with the devices
/// serving it and their summed traffic, and each rollout's state, stage, device states and gate values against
/// their thresholds (fleet/dashboards/ has a Grafana dashboard built on them).
/// </summary>
public sealed class FleetMetrics
{
    /// <summary>Finished rollouts kept in the output besides the active ones.</summary>
    private const int RecentRollouts = 20;

    private readonly IFleetStore _store;
    private readonly RolloutEngine _rollouts;
    private readonly DeviceRegistry _registry;

    public FleetMetrics(IFleetStore store, RolloutEngine rollouts, DeviceRegistry registry)
    {
        _store = store;
        _rollouts = rollouts;
        _registry = registry;
    }

    public string Render()
    {
        var text = new StringBuilder();
        var devices = _store.ListDevices();
        Family(text, "edgefleet_devices", "gauge", "Devices known to the fleet, by connection state.");
        Sample(text, "edgefleet_devices", [("state", "online")], devices.Count(d => d.Online));
        Sample(text, "edgefleet_devices", [("state", "offline")], devices.Count(d => !d.Online));

        var serving = devices
            .SelectMany(d => d.Models.Where(m => m.State == "READY").Select(m => (Model: m.Model, Version: m.PackageVersion ?? $"v{m.Version}", Provider: m.ExecutionProvider)))
            .GroupBy(s => s).OrderBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Version, StringComparer.Ordinal).ToArray();
        Family(text, "edgefleet_model_version_devices", "gauge", "Devices serving a model version, by execution provider.");
        foreach (var group in serving)
        {
            Sample(text, "edgefleet_model_version_devices", [("model", group.Key.Model), ("version", group.Key.Version), ("provider", group.Key.Provider)], group.Count());
        }

        var stats = devices.SelectMany(d => d.Stats.Select(s => (Key: s.Key, Stats: s.Value, Drift: d.Drift.GetValueOrDefault(s.Key))))
            .GroupBy(s => s.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToArray();
        Family(text, "edgefleet_model_version_requests_total", "counter", "Requests served by a model version, summed over devices (since the fleet service started keeping them).");
        Family(text, "edgefleet_model_version_errors_total", "counter", "Failed requests of a model version, summed over devices.");
        Family(text, "edgefleet_model_version_p95_ms", "gauge", "Mean over devices of each device's latest p95 latency of a model version.");
        Family(text, "edgefleet_model_version_drifted_devices", "gauge", "Devices whose latest drift window of a model version is flagged.");
        foreach (var group in stats)
        {
            var at = group.Key.LastIndexOf('@');
            (string, string)[] labels = [("model", group.Key[..at]), ("version", group.Key[(at + 1)..])];
            Sample(text, "edgefleet_model_version_requests_total", labels, group.Sum(s => s.Stats.Requests));
            Sample(text, "edgefleet_model_version_errors_total", labels, group.Sum(s => s.Stats.Errors));
            if (group.Select(s => s.Stats.P95Ms).OfType<double>().ToArray() is { Length: > 0 } p95)
            {
                Sample(text, "edgefleet_model_version_p95_ms", labels, p95.Average());
            }

            Sample(text, "edgefleet_model_version_drifted_devices", labels, group.Count(s => s.Drift?.Drifted == true));
        }

        var rollouts = _store.ListRollouts().OrderByDescending(r => r.CreatedAt).ToArray();
        var shown = rollouts.Where(r => r.State is RolloutState.Running or RolloutState.WaitingApproval or RolloutState.Paused or RolloutState.RollingBack)
            .Concat(rollouts.Take(RecentRollouts)).Distinct().ToArray();
        Family(text, "edgefleet_rollout_info", "gauge", "One per rollout, with its model, version and state.");
        Family(text, "edgefleet_rollout_stage", "gauge", "The rollout's current stage (1-based) and its number of stages.");
        Family(text, "edgefleet_rollout_devices", "gauge", "Devices of a rollout by install state.");
        Family(text, "edgefleet_rollout_gate_value", "gauge", "A gate's last measured value (absent without data).");
        Family(text, "edgefleet_rollout_gate_threshold", "gauge", "A gate's threshold.");
        Family(text, "edgefleet_rollout_gate_passed", "gauge", "1 when the gate passed at its last measurement.");
        foreach (var rollout in shown)
        {
            Sample(text, "edgefleet_rollout_info", [("rollout", rollout.Id), ("model", rollout.Model), ("version", rollout.Version), ("state", rollout.State.WireName())], 1);
            Sample(text, "edgefleet_rollout_stage", [("rollout", rollout.Id), ("of", rollout.Stages.Count.ToString(CultureInfo.InvariantCulture))], rollout.Stage + 1);
            foreach (var state in _rollouts.Devices(rollout).GroupBy(d => d.State.WireName(), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                Sample(text, "edgefleet_rollout_devices", [("rollout", rollout.Id), ("state", state.Key)], state.Count());
            }

            foreach (var gate in rollout.Gates)
            {
                (string, string)[] labels = [("rollout", rollout.Id), ("gate", gate.Metric), ("operator", gate.Operator)];
                Sample(text, "edgefleet_rollout_gate_threshold", labels, gate.Threshold);
                if (rollout.LastGateResults.FirstOrDefault(r => r.Gate == gate.ToString()) is { } result)
                {
                    if (result.Value is { } value)
                    {
                        Sample(text, "edgefleet_rollout_gate_value", labels, value);
                    }

                    Sample(text, "edgefleet_rollout_gate_passed", labels, result.Passed ? 1 : 0);
                }
            }
        }

        Family(text, "edgefleet_commands_open", "gauge", "Commands waiting for their final reply.");
        Sample(text, "edgefleet_commands_open", [], _store.ListOpenCommands().Count);
        Family(text, "edgefleet_mqtt_dropped_messages_total", "counter", "Device messages dropped as unreadable or misaddressed.");
        Sample(text, "edgefleet_mqtt_dropped_messages_total", [], _registry.Dropped);
        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, (string Name, string Value)[] labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                text.Append(i == 0 ? "" : ",").Append(labels[i].Name).Append("=\"")
                    .Append(labels[i].Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
                    .Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
