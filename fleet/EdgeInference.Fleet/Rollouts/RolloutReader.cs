using System.Globalization;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>Reads a rollout pass's <see cref="RolloutSnapshot"/> from the store: the executor's read side, kept apart from the decisions.</summary>
internal static class RolloutReader
{
    /// <summary>
    /// What a pass decides from, in three reads whatever the fleet's size: the registry, the rollout's rows and the
    /// commands they refer to.
    /// </summary>
    public static RolloutSnapshot Read(IFleetStore store, RolloutRecord rollout, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(rollout);
        var registry = store.ListDevices();
        var byId = registry.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var rows = store.ListAssignments(rollout.Id);
        var commandIds = rows.Select(r => r.CommandId).Where(id => id.Length > 0)
            .Concat(rows.Select(r => r.RollbackCommandId).OfType<string>()).Concat(rows.Select(r => r.BenchmarkCommandId).OfType<string>()).ToArray();
        var commands = store.GetCommands(commandIds).ToDictionary(c => c.Id, StringComparer.Ordinal);
        var devices = new List<RolloutDevice>(rows.Count);
        foreach (var assignment in rows.OrderBy(a => a.Stage).ThenBy(a => a.DeviceId, StringComparer.Ordinal))
        {
            var device = byId.GetValueOrDefault(assignment.DeviceId);
            var command = commands.GetValueOrDefault(assignment.CommandId);
            var rollback = assignment.RollbackCommandId is { } rollbackId ? commands.GetValueOrDefault(rollbackId) : null;
            var shadowed = command?.Replies.LastOrDefault(r => r.ShadowRequests is not null);
            var golden = command?.Replies.LastOrDefault(r => r.GoldenTotal is not null);
            var benchmark = assignment.BenchmarkCommandId is { } benchmarkId ? commands.GetValueOrDefault(benchmarkId) : null;
            var figures = benchmark?.Replies.LastOrDefault(r => r.Benchmark is not null)?.Benchmark;
            var passed = RolloutPlanner.BenchmarkPasses(rollout, benchmark);
            var refused = benchmark is { Final: true } && !passed
                ? figures is null ? benchmark.Last?.Reason ?? benchmark.Last?.Message ?? $"the benchmark ended {benchmark.State}"
                : string.Create(CultureInfo.InvariantCulture, $"benchmark p95 {figures.P95Ms:0.####} ms is over {string.Join(", ", rollout.Gates.Where(g => g.Metric == GateMetrics.BenchP95Ms))}")
                : null;
            devices.Add(new RolloutDevice
            {
                DeviceId = assignment.DeviceId, Stage = assignment.Stage, Online = device?.Online == true, ServingVersion = device?.ServingVersion(rollout.Model),
                PreviousVersion = assignment.PreviousVersion, Assignment = assignment, Device = device,
                GoldenPassed = golden?.GoldenPassed, GoldenTotal = golden?.GoldenTotal,
                ShadowAgreement = shadowed?.ShadowAgreement, ShadowRequests = shadowed?.ShadowRequests,
                State = RolloutPlanner.StateOf(rollout, assignment, device, command, rollback, now, benchmark),
                Reason = rollback?.Last?.Reason ?? command?.Last?.Reason ?? refused,
                Message = command?.Last?.Message ?? benchmark?.Last?.Message,
                BenchmarkP95Ms = figures?.P95Ms, BenchmarkPassed = passed,
                RollbackFinal = rollback?.Final == true,
            });
        }

        return new RolloutSnapshot(rollout, RolloutPlanner.Order(rollout, registry), devices);
    }
}
