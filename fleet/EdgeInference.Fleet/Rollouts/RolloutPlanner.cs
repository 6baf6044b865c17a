using System.Security.Cryptography;
using System.Text;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// The rollout's decisions as pure functions of a <see cref="RolloutSnapshot"/> and the time (after Azure IoT Edge's
/// planner → plan → runner): which devices to give the version, each assigned device's state, when a stage has settled,
/// what the gates say, and whether to wait, advance, complete, wait for approval, pause or roll back. No I/O: the
/// <see cref="RolloutEngine"/> reads the snapshot and carries the plan out.
/// </summary>
internal static class RolloutPlanner
{
    /// <summary>The highest <see cref="RolloutRecord.MaxPerMinute"/> a rollout may ask for.</summary>
    public const int MaxDeploysPerMinute = 100_000;

    public static IReadOnlyList<RolloutAction> Plan(RolloutSnapshot snapshot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var rollout = snapshot.Rollout;
        return rollout.State switch
        {
            RolloutState.RollingBack => RollBack(snapshot),
            RolloutState.Running or RolloutState.Completed => Run(snapshot, now),
            _ => [],
        };
    }

    /// <summary>The devices a selector picks, in the order stages take them: online first, then in an order stable per rollout.</summary>
    public static IReadOnlyList<DeviceRecord> Order(RolloutRecord rollout, IEnumerable<DeviceRecord> devices)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        var selector = RolloutParser.ParseSelector(rollout.Target);
        return devices.Where(d => d.RevokedAt is null && RolloutParser.Matches(selector, d))
            .OrderBy(d => d.Online ? 0 : 1)
            .ThenBy(d => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rollout.Id + "/" + d.Id))), StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// Where an assigned device stands, from its deploy command, its rollback command, its registry entry and, where the
    /// rollout gates on <c>bench_p95_ms</c>, the benchmark it ran first: benchmarking until the deploy is sent (failed
    /// when the benchmark failed or was too slow, offline when it went unanswered past the offline timeout).
    /// </summary>
    public static InstallState StateOf(
        RolloutRecord rollout, RolloutAssignment assignment, DeviceRecord? device, CommandRecord? deploy, CommandRecord? rollback, DateTimeOffset now, CommandRecord? benchmark = null)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(assignment);
        if (rollback is { Final: true, State: CommandState.Succeeded })
        {
            return InstallState.RolledBack;
        }

        if (assignment.CommandId.Length == 0 && assignment.BenchmarkCommandId is not null)
        {
            return benchmark switch
            {
                { Final: true } => BenchmarkPasses(rollout, benchmark) ? InstallState.Benchmarking : InstallState.Failed,
                { Replies.Count: > 0 } => InstallState.Benchmarking,
                _ => device?.Online != true && now - assignment.AssignedAt >= rollout.OfflineTimeout ? InstallState.Offline : InstallState.Benchmarking,
            };
        }

        return (assignment.CommandId.Length == 0, deploy) switch
        {
            (true, _) => InstallState.Installed, // it served this version before the rollout
            (_, null) => InstallState.Pending,
            (_, { Final: true, State: CommandState.Succeeded }) => InstallState.Installed,
            (_, { Final: true }) => InstallState.Failed,
            (_, { Last: { State: ReplyState.Progress, Step: UpdateStep.Switch or UpdateStep.Confirm } }) => InstallState.Probation,
            (_, { Replies.Count: > 0 }) => InstallState.Installing,
            _ => device?.Online != true && now - assignment.AssignedAt >= rollout.OfflineTimeout ? InstallState.Offline : InstallState.Pending,
        };
    }

    /// <summary>Whether a device's benchmark succeeded with a p95 within every <c>bench_p95_ms</c> gate of the rollout.</summary>
    public static bool BenchmarkPasses(RolloutRecord rollout, CommandRecord? benchmark)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return benchmark is { Final: true, State: CommandState.Succeeded }
            && benchmark.Replies.LastOrDefault(r => r.Benchmark is not null)?.Benchmark is { } figures
            && rollout.Gates.Where(g => g.Metric == GateMetrics.BenchP95Ms).All(g => g.Passes(figures.P95Ms));
    }

    /// <summary>How many more deploys <see cref="RolloutRecord.MaxPerMinute"/> allows now: within the last minute, and within the last second.</summary>
    public static int DeployBudget(RolloutSnapshot snapshot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Rollout.MaxPerMinute is not { } perMinute)
        {
            return int.MaxValue;
        }

        // A benchmark downloads the package as a deploy does: it counts, and the deploy that follows it does not.
        var deploys = snapshot.Devices.Select(d => d.Assignment).OfType<RolloutAssignment>()
            .Where(a => a.CommandId.Length > 0 || a.BenchmarkCommandId is not null).Select(a => now - a.AssignedAt).ToArray();
        var perSecond = (perMinute + 59) / 60;
        return Math.Min(perMinute - deploys.Count(age => age < TimeSpan.FromMinutes(1)), perSecond - deploys.Count(age => age < TimeSpan.FromSeconds(1)));
    }

    private static List<RolloutAction> Run(RolloutSnapshot snapshot, DateTimeOffset now)
    {
        var rollout = snapshot.Rollout;
        var plan = new List<RolloutAction>();
        var devices = snapshot.Devices.ToList();
        var wanted = rollout.State == RolloutState.Completed ? snapshot.Targeted.Count : rollout.Stages[rollout.Stage].DevicesOf(snapshot.Targeted.Count);
        var assigned = snapshot.Targeted.Count(d => snapshot.Assigned.ContainsKey(d.Id));
        var budget = DeployBudget(snapshot, now);
        var benchmarkFirst = rollout.Gates.Any(g => g.Metric == GateMetrics.BenchP95Ms);
        foreach (var device in snapshot.Targeted.Where(d => !snapshot.Assigned.ContainsKey(d.Id)))
        {
            var serving = device.ServingVersion(rollout.Model);
            var deploy = serving != rollout.Version;
            if (assigned >= wanted || (deploy && budget <= 0))
            {
                break;
            }

            budget -= deploy ? 1 : 0;
            plan.Add(deploy && benchmarkFirst ? new RolloutAction.AssignBenchmark(device.Id, serving) : new RolloutAction.Assign(device.Id, serving, deploy));
            devices.Add(new RolloutDevice
            {
                DeviceId = device.Id, Stage = rollout.Stage, Online = device.Online, PreviousVersion = serving, Device = device,
                State = !deploy ? InstallState.Installed : benchmarkFirst ? InstallState.Benchmarking : InstallState.Pending,
            });
            assigned++;
        }

        // A device whose benchmark passed gets the deploy (late devices of a completed rollout too); it stays unsettled.
        plan.AddRange(devices.Where(d => d is { State: InstallState.Benchmarking, BenchmarkPassed: true }).Select(d => new RolloutAction.SendDeploy(d.DeviceId)));

        if (rollout.State == RolloutState.Completed)
        {
            return plan; // it only gives its version to devices that join late
        }

        var gates = GateEvaluator.Evaluate(rollout, devices, snapshot.Targeted);
        var settled = devices.Count >= wanted && devices.All(d => d.State.IsSettled());
        if (!settled)
        {
            plan.Add(new RolloutAction.Measure(gates, null));
            return plan;
        }

        var settledAt = rollout.StageSettledAt ?? now;
        plan.Add(new RolloutAction.Measure(gates, settledAt));

        // A gate without data has not passed: it waits, past the soak, up to no_data_timeout, then on_no_data decides.
        var noData = gates.Where(g => g.Value is null).Select(g => g.Gate).ToArray();
        var noDataExpired = now - settledAt >= rollout.Soak + rollout.NoDataTimeout;
        var failing = gates.Where(g => g.Value is not null && !g.Passed).Select(g => $"{g.Gate} measured {g.Value:0.####} over {g.Samples}")
            .Concat(noDataExpired && rollout.OnNoData == RolloutParser.NoDataFails ? noData.Select(g => $"{g} had no data within {rollout.Soak + rollout.NoDataTimeout}") : [])
            .ToArray();
        if (failing.Length > 0)
        {
            var why = "gate failed: " + string.Join("; ", failing);
            if (rollout.OnFailure == "rollback")
            {
                plan.Add(new RolloutAction.CancelUnsent());
                plan.Add(new RolloutAction.Transition(RolloutState.RollingBack, "rolling_back", why));
            }
            else
            {
                plan.Add(new RolloutAction.Transition(RolloutState.Paused, "paused", why));
            }

            return plan;
        }

        if (now - settledAt < rollout.Soak || (noData.Length > 0 && !noDataExpired))
        {
            return plan; // soaking, or waiting for data
        }

        var passed = "gates passed: " + string.Join("; ", gates.Select(g => g.Value is null ? $"{g.Gate} (no data; on_no_data pass)" : $"{g.Gate} measured {g.Value:0.####}"));
        plan.Add(rollout.RequireApproval && rollout.Stage < rollout.Stages.Count - 1
            ? new RolloutAction.Transition(RolloutState.WaitingApproval, "waiting_approval", passed + "; waiting for promote")
            : new RolloutAction.Advance(rollout.Stage == rollout.Stages.Count - 1 ? "completed" : "advanced", passed));
        return plan;
    }

    /// <summary>Every updated device gets a rollback once it is not installing any more; the rollout is rolled back when all have answered.</summary>
    private static List<RolloutAction> RollBack(RolloutSnapshot snapshot)
    {
        var plan = new List<RolloutAction>();
        var waiting = 0;
        foreach (var device in snapshot.Devices)
        {
            var assignment = device.Assignment!;
            if (assignment.CommandId.Length == 0 || device.State is not (InstallState.Installing or InstallState.Probation or InstallState.Installed))
            {
                continue; // it served this version before the rollout, or never got it, or is already back
            }

            if (device.State == InstallState.Installing)
            {
                waiting++;
            }
            else if (assignment.RollbackCommandId is null)
            {
                plan.Add(new RolloutAction.RollBackDevice(device.DeviceId));
                waiting++;
            }
            else if (!device.RollbackFinal)
            {
                waiting++;
            }
        }

        if (waiting == 0)
        {
            plan.Add(new RolloutAction.Transition(RolloutState.RolledBack, "rolled_back", $"every updated device is back on its previous version ({snapshot.Rollout.Reason})"));
        }

        return plan;
    }
}
