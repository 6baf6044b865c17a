using EdgeInference.Contracts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// Measures a rollout's gates on the devices it updated. Each gate's value comes from the devices' own
/// reports: install replies, golden-vector counts, telemetry of the new version (errors, p95) against the
/// same device's previous version or else the rest of the targeted fleet, drift windows, and the on-device benchmarks
/// the rollout ran before its devices switched. A gate without
/// data has no value and has not passed; the engine waits for data and then applies the rollout's <c>on_no_data</c>.
/// </summary>
public static class GateEvaluator
{
    public static List<GateResult> Evaluate(RolloutRecord rollout, IReadOnlyList<RolloutDevice> devices, IReadOnlyList<DeviceRecord> targeted)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(targeted);
        var results = new List<GateResult>();
        foreach (var gate in rollout.Gates)
        {
            var (value, samples) = Measure(gate.Metric, rollout, devices, targeted);
            results.Add(new GateResult { Gate = gate.ToString(), Value = value is { } v ? Math.Round(v, 6) : null, Samples = samples, Passed = value is { } measured && gate.Passes(measured) });
        }

        return results;
    }

    private static (double? Value, long Samples) Measure(string metric, RolloutRecord rollout, IReadOnlyList<RolloutDevice> devices, IReadOnlyList<DeviceRecord> targeted)
    {
        var installed = devices.Where(d => d.State.IsServing() && d.Device is not null).ToArray();
        var newKey = DeviceRecord.StatsKey(rollout.Model, rollout.Version);
        switch (metric)
        {
            case GateMetrics.InstallRate:
            {
                var finished = devices.Count(d => d.State is InstallState.Installed or InstallState.Failed or InstallState.RolledBack);
                return finished == 0 ? (null, 0) : ((double)devices.Count(d => d.State is InstallState.Installed or InstallState.RolledBack) / finished, finished);
            }

            case GateMetrics.GoldenRate:
            {
                long passed = devices.Sum(d => d.GoldenPassed ?? 0), total = devices.Sum(d => d.GoldenTotal ?? 0);
                return total == 0 ? (null, 0) : ((double)passed / total, total);
            }

            case GateMetrics.ErrorRate:
            {
                long requests = 0, errors = 0;
                foreach (var device in installed)
                {
                    if (device.Device!.Stats.TryGetValue(newKey, out var stats))
                    {
                        requests += stats.Requests;
                        errors += stats.Errors;
                    }
                }

                return requests == 0 ? (null, 0) : ((double)errors / requests, requests);
            }

            case GateMetrics.P95Ratio:
            {
                var assigned = devices.Select(d => d.DeviceId).ToHashSet(StringComparer.Ordinal);
                var fleetBaseline = targeted
                    .Where(t => !assigned.Contains(t.Id))
                    .Select(t => t.Stats.GetValueOrDefault(DeviceRecord.StatsKey(rollout.Model, t.ServingVersion(rollout.Model)))?.P95Ms)
                    .OfType<double>().DefaultIfEmpty(double.NaN).Average();
                var ratios = new List<double>();
                foreach (var device in installed)
                {
                    if (device.Device!.Stats.GetValueOrDefault(newKey)?.P95Ms is not { } now)
                    {
                        continue;
                    }

                    var before = device.Device.Stats.GetValueOrDefault(DeviceRecord.StatsKey(rollout.Model, device.PreviousVersion))?.P95Ms ?? fleetBaseline;
                    if (double.IsFinite(before) && before > 0)
                    {
                        ratios.Add(now / before);
                    }
                }

                return ratios.Count == 0 ? (null, 0) : (ratios.Average(), ratios.Count);
            }

            case GateMetrics.DriftRate:
            {
                var reports = installed.Select(d => d.Device!.Drift.GetValueOrDefault(newKey)).OfType<DriftSummary>().ToArray();
                return reports.Length == 0 ? (null, 0) : ((double)reports.Count(r => r.Drifted) / reports.Length, reports.Length);
            }

            case GateMetrics.BenchP95Ms:
            {
                var p95s = devices.Select(d => d.BenchmarkP95Ms).OfType<double>().ToArray();
                return p95s.Length == 0 ? (null, 0) : (p95s.Max(), p95s.Length);
            }

            case GateMetrics.Agreement:
            {
                var agreements = devices.Select(d => d.ShadowAgreement).OfType<double>().ToArray();
                return agreements.Length == 0 ? (null, 0) : (agreements.Average(), agreements.Length);
            }

            default:
                return (null, 0);
        }
    }
}
