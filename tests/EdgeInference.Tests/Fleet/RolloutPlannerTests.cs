using EdgeInference.Contracts;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Tests.Fleet;

/// <summary>The rollout planner's decisions, as pure functions of a snapshot and the time: no store, no broker, no clock.</summary>
public sealed class RolloutPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AStage_AssignsItsShareOfTheTargetedDevices_DeployingOnlyToThoseNotAlreadyServingTheVersion()
    {
        var rollout = Rollout("30%,100%");
        var targeted = Enumerable.Range(0, 10).Select(i => Device($"d{i}", serving: i == 0 ? "2.0.0" : "1.0.0")).ToArray();

        var plan = RolloutPlanner.Plan(new RolloutSnapshot(rollout, targeted, []), Now);

        var assigned = plan.OfType<RolloutAction.Assign>().ToList();
        Assert.Equal(["d0", "d1", "d2"], assigned.Select(a => a.DeviceId));
        Assert.Equal([false, true, true], assigned.Select(a => a.Deploy));
        Assert.Equal("1.0.0", assigned[1].PreviousVersion);
        Assert.Null(plan.OfType<RolloutAction.Measure>().Single().SettledAt);
    }

    [Fact]
    public void AStageWithADeviceStillInstallingOrOnProbation_OnlyMeasures()
    {
        foreach (var state in new[] { InstallState.Pending, InstallState.Installing, InstallState.Probation })
        {
            var rollout = Rollout("100%", soak: TimeSpan.Zero);
            var plan = RolloutPlanner.Plan(Snapshot(rollout, (state, null)), Now);
            Assert.Null(Assert.IsType<RolloutAction.Measure>(Assert.Single(plan)).SettledAt);
        }
    }

    [Fact]
    public void ASettledStage_SoaksFirst_ThenAdvances_AndTheLastStageCompletes()
    {
        var rollout = Rollout("1,100%", soak: TimeSpan.FromMinutes(5));
        rollout.StageSettledAt = Now - TimeSpan.FromMinutes(2);
        Assert.IsType<RolloutAction.Measure>(Assert.Single(RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null)), Now)));

        var later = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null)), Now + TimeSpan.FromMinutes(3));
        Assert.Equal("advanced", Assert.IsType<RolloutAction.Advance>(later[^1]).Kind);

        rollout.Stage = 1;
        var last = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null), (InstallState.Installed, null)), Now + TimeSpan.FromMinutes(3));
        Assert.Equal("completed", Assert.IsType<RolloutAction.Advance>(last[^1]).Kind);
    }

    [Fact]
    public void APassingStage_WaitsForPromote_WhenTheRolloutRequiresApproval()
    {
        var rollout = Rollout("1,100%", soak: TimeSpan.Zero);
        rollout.RequireApproval = true;
        var plan = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null)), Now);
        Assert.Equal(RolloutState.WaitingApproval, Assert.IsType<RolloutAction.Transition>(plan[^1]).State);
    }

    [Fact]
    public void AFailingGate_PausesTheRollout_OrCancelsAndRollsBack_AsOnFailureSays()
    {
        var rollout = Rollout("100%", soak: TimeSpan.FromHours(1));
        var paused = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Failed, null)), Now);
        var pause = Assert.IsType<RolloutAction.Transition>(paused[^1]);
        Assert.Equal(RolloutState.Paused, pause.State);
        Assert.Contains("install_rate>=1 measured 0 over 1", pause.Message, StringComparison.Ordinal);

        rollout.OnFailure = "rollback";
        var rolling = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Failed, null)), Now);
        Assert.IsType<RolloutAction.CancelUnsent>(rolling[^2]);
        Assert.Equal(RolloutState.RollingBack, Assert.IsType<RolloutAction.Transition>(rolling[^1]).State);
    }

    [Fact]
    public void AGateWithoutData_WaitsPastTheSoak_ThenOnNoDataDecides()
    {
        var rollout = Rollout("100%", soak: TimeSpan.FromMinutes(1), gate: "error_rate<=0.01");
        rollout.StageSettledAt = Now;
        Assert.IsType<RolloutAction.Measure>(Assert.Single(RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null)), Now + TimeSpan.FromMinutes(5))));

        var failed = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null)), Now + TimeSpan.FromMinutes(11));
        Assert.Contains("had no data within 00:11:00", Assert.IsType<RolloutAction.Transition>(failed[^1]).Message, StringComparison.Ordinal);

        rollout.OnNoData = RolloutParser.NoDataPasses;
        var passed = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installed, null)), Now + TimeSpan.FromMinutes(11));
        Assert.Equal("completed", Assert.IsType<RolloutAction.Advance>(passed[^1]).Kind);
    }

    [Fact]
    public void RollingBack_WaitsForInstallingDevices_RollsBackServingOnes_AndEndsWhenEveryRollbackHasAnswered()
    {
        var rollout = Rollout("100%");
        rollout.State = RolloutState.RollingBack;
        var first = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.Installing, null), (InstallState.Installed, null), (InstallState.Probation, null), (InstallState.Failed, null)), Now);
        Assert.Equal(["d1", "d2"], first.OfType<RolloutAction.RollBackDevice>().Select(r => r.DeviceId));
        Assert.DoesNotContain(first, a => a is RolloutAction.Transition);

        var answered = RolloutPlanner.Plan(Snapshot(rollout, (InstallState.RolledBack, "rb-0"), (InstallState.RolledBack, "rb-1"), (InstallState.Installed, "rb-2"), (InstallState.Failed, null)), Now);
        // d2's rollback answered but failed (nothing to go back to): the rollout ends all the same.
        Assert.Equal(RolloutState.RolledBack, Assert.IsType<RolloutAction.Transition>(Assert.Single(answered)).State);
    }

    [Fact]
    public void ACompletedRollout_GivesItsVersionToALateJoiner_AndDecidesNothingElse()
    {
        var rollout = Rollout("100%");
        rollout.State = RolloutState.Completed;
        var d0 = new RolloutDevice { DeviceId = "d0", State = InstallState.Installed, Assignment = new RolloutAssignment { RolloutId = rollout.Id, DeviceId = "d0", CommandId = "c0" } };
        var plan = RolloutPlanner.Plan(new RolloutSnapshot(rollout, [Device("d0", "2.0.0"), Device("late", "1.0.0")], [d0]), Now);
        Assert.Equal(new RolloutAction.Assign("late", "1.0.0", true), Assert.Single(plan));
    }

    [Fact]
    public void AnAssignedDevicesState_ComesFromItsCommands_AndAnOfflineOneStopsHoldingTheStageAfterTheTimeout()
    {
        var rollout = Rollout("100%");
        var assignment = new RolloutAssignment { CommandId = "c1", AssignedAt = Now };
        var offline = Device("d1", "1.0.0", online: false);
        Assert.Equal(InstallState.Pending, RolloutPlanner.StateOf(rollout, assignment, offline, null, null, Now));
        Assert.Equal(InstallState.Pending, RolloutPlanner.StateOf(rollout, assignment, offline, Command(), null, Now + TimeSpan.FromMinutes(5)));
        Assert.Equal(InstallState.Offline, RolloutPlanner.StateOf(rollout, assignment, offline, Command(), null, Now + TimeSpan.FromMinutes(10)));
        Assert.Equal(InstallState.Installing, RolloutPlanner.StateOf(rollout, assignment, offline, Command((ReplyState.Progress, UpdateStep.Download, false)), null, Now));
        Assert.Equal(InstallState.Probation, RolloutPlanner.StateOf(rollout, assignment, offline, Command((ReplyState.Progress, UpdateStep.Switch, false)), null, Now));
        Assert.Equal(InstallState.Installed, RolloutPlanner.StateOf(rollout, assignment, offline, Command((ReplyState.Succeeded, UpdateStep.Confirm, true)), null, Now));
        Assert.Equal(InstallState.Failed, RolloutPlanner.StateOf(rollout, assignment, offline, Command((ReplyState.Rejected, null, true)), null, Now));
        Assert.Equal(InstallState.RolledBack, RolloutPlanner.StateOf(rollout, assignment, offline, Command((ReplyState.Succeeded, UpdateStep.Confirm, true)), Command((ReplyState.Succeeded, null, true)), Now));
    }

    [Fact]
    public void WithABenchmarkGate_AStagesDevices_BenchmarkFirst_AndOnlyThoseWithinTheGateGetTheDeploy()
    {
        var rollout = Rollout("100%", soak: TimeSpan.Zero, gate: "bench_p95_ms<=5");
        var targeted = new[] { Device("fast", "1.0.0"), Device("slow", "1.0.0"), Device("current", "2.0.0") };

        var first = RolloutPlanner.Plan(new RolloutSnapshot(rollout, targeted, []), Now);
        Assert.Equal(["fast", "slow"], first.OfType<RolloutAction.AssignBenchmark>().Select(a => a.DeviceId).Order(StringComparer.Ordinal));
        Assert.Equal(new RolloutAction.Assign("current", "2.0.0", false), Assert.Single(first.OfType<RolloutAction.Assign>()));
        Assert.Null(first.OfType<RolloutAction.Measure>().Single().SettledAt);

        // Their figures come back: the fast one passes and gets the deploy; the slow one fails the stage with its number.
        var fast = Benchmarked(rollout, "fast", Benchmark(3.2));
        var slow = Benchmarked(rollout, "slow", Benchmark(7.5));
        Assert.Equal(InstallState.Benchmarking, fast.State);
        Assert.Equal(InstallState.Failed, slow.State);
        var installed = new RolloutDevice { DeviceId = "current", State = InstallState.Installed, Assignment = new RolloutAssignment { DeviceId = "current" } };
        var second = RolloutPlanner.Plan(new RolloutSnapshot(rollout, targeted, [fast, slow, installed]), Now);
        Assert.Equal(new RolloutAction.SendDeploy("fast"), Assert.Single(second.OfType<RolloutAction.SendDeploy>()));
        var measured = Assert.Single(second.OfType<RolloutAction.Measure>().Single().Gates);
        Assert.Equal(7.5, measured.Value);
        Assert.Equal(2, measured.Samples);
        Assert.False(measured.Passed);
        Assert.DoesNotContain(second, a => a is RolloutAction.Transition); // the fast device is still to install: not settled

        fast.State = InstallState.Installed;
        var third = RolloutPlanner.Plan(new RolloutSnapshot(rollout, targeted, [fast, slow, installed]), Now);
        var pause = Assert.IsType<RolloutAction.Transition>(third[^1]);
        Assert.Equal(RolloutState.Paused, pause.State);
        Assert.Contains("bench_p95_ms<=5 measured 7.5 over 2", pause.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bench_p95_ms>=5")]
    [InlineData("bench_p95_ms<=0")]
    [InlineData("bench_p95_ms<=-2")]
    public void ABenchmarkGate_TakesOnlyAnUpperBoundInMilliseconds(string gate)
    {
        var refused = Assert.Throws<FormatException>(() => RolloutParser.ParseGate(gate));
        Assert.Contains("takes the most milliseconds a device's p95 may reach", refused.Message, StringComparison.Ordinal);
        Assert.Equal(20, RolloutParser.ParseGate("bench_p95_ms<=20").Threshold);
    }

    [Fact]
    public void ABenchmarkThatFailsOrGoesUnanswered_NeverLeadsToADeploy()
    {
        var rollout = Rollout("100%", gate: "bench_p95_ms<=5");
        var assignment = new RolloutAssignment { BenchmarkCommandId = "b1", AssignedAt = Now };
        var offline = Device("d1", "1.0.0", online: false);
        Assert.Equal(InstallState.Benchmarking, RolloutPlanner.StateOf(rollout, assignment, offline, null, null, Now, Command()));
        Assert.Equal(InstallState.Offline, RolloutPlanner.StateOf(rollout, assignment, offline, null, null, Now + TimeSpan.FromMinutes(10), Command()));
        Assert.Equal(InstallState.Failed, RolloutPlanner.StateOf(rollout, assignment, offline, null, null, Now, Command((ReplyState.Failed, null, true))));
        Assert.False(RolloutPlanner.BenchmarkPasses(rollout, Command((ReplyState.Failed, null, true))));
        Assert.False(RolloutPlanner.BenchmarkPasses(rollout, Command((ReplyState.Succeeded, null, true)))); // succeeded without figures
        Assert.True(RolloutPlanner.BenchmarkPasses(rollout, Benchmark(5)));
        // Once the deploy is out, the deploy command says where the device stands.
        assignment.CommandId = "c1";
        Assert.Equal(InstallState.Installing, RolloutPlanner.StateOf(rollout, assignment, offline, Command((ReplyState.Progress, UpdateStep.Download, false)), null, Now, Benchmark(3)));
    }

    [Fact]
    public void MaxPerMinute_SendsExactlyThatManyDeploysEachMinute_SpreadOverItsSeconds_AndDevicesAlreadyOnTheVersionCostNothing()
    {
        var rollout = Rollout("100%");
        rollout.MaxPerMinute = 90;
        var targeted = Enumerable.Range(0, 1000).Select(i => Device($"d{i:000}", serving: i % 10 == 0 ? "2.0.0" : "1.0.0")).ToArray();
        var perSecond = new List<int>();
        var rows = new List<RolloutDevice>();
        for (var second = 0; second < 180; second++)
        {
            var now = Now + TimeSpan.FromSeconds(second);
            var assigns = RolloutPlanner.Plan(new RolloutSnapshot(rollout, targeted, rows.ToArray()), now).OfType<RolloutAction.Assign>().ToList();
            foreach (var assign in assigns)
            {
                var row = new RolloutAssignment { RolloutId = rollout.Id, DeviceId = assign.DeviceId, CommandId = assign.Deploy ? $"c-{assign.DeviceId}" : "", AssignedAt = now };
                rows.Add(new RolloutDevice { DeviceId = assign.DeviceId, State = InstallState.Pending, Assignment = row });
            }

            perSecond.Add(assigns.Count(a => a.Deploy));
        }

        Assert.Equal([90, 90, 90], perSecond.Chunk(60).Select(minute => minute.Sum()));
        Assert.Equal(2, perSecond.Max()); // 90 a minute: at most 2 in any second, not 90 at once
        Assert.True(rows.Count(d => d.Assignment!.CommandId.Length == 0) > 20, "devices already on 2.0.0 were assigned without spending the budget");
        Assert.Equal(int.MaxValue, RolloutPlanner.DeployBudget(new RolloutSnapshot(Rollout("100%"), targeted, rows), Now));
    }

    [Fact]
    public void TheOrderOfTargetedDevices_PutsOnlineOnesFirst_AndIsStablePerRolloutButDiffersBetweenRollouts()
    {
        var devices = Enumerable.Range(0, 20).Select(i => Device($"d{i}", "1.0.0", online: i % 2 == 0)).ToArray();
        var first = RolloutPlanner.Order(Rollout("100%", id: "ro-a"), devices);
        Assert.All(first.Take(10), d => Assert.True(d.Online));
        Assert.Equal(first.Select(d => d.Id), RolloutPlanner.Order(Rollout("100%", id: "ro-a"), devices.Reverse()).Select(d => d.Id));
        Assert.NotEqual(first.Select(d => d.Id), RolloutPlanner.Order(Rollout("100%", id: "ro-b"), devices).Select(d => d.Id));
    }

    private static RolloutRecord Rollout(string stages, TimeSpan? soak = null, string gate = "install_rate>=1", string id = "ro-1") => new()
    {
        Id = id, Model = "scorer", Version = "2.0.0", Stages = RolloutParser.ParseStages(stages), Soak = soak ?? TimeSpan.FromMinutes(5),
        Gates = [RolloutParser.ParseGate(gate)], NoDataTimeout = TimeSpan.FromMinutes(10), StageStartedAt = Now,
    };

    /// <summary>A snapshot whose devices d0, d1… were all assigned at stage 0 with the given states (and rollback command, when sent).</summary>
    private static RolloutSnapshot Snapshot(RolloutRecord rollout, params (InstallState State, string? Rollback)[] states)
    {
        var devices = new List<RolloutDevice>();
        var targeted = new List<DeviceRecord>();
        for (var i = 0; i < states.Length; i++)
        {
            var record = Device($"d{i}", "1.0.0");
            var assignment = new RolloutAssignment { RolloutId = rollout.Id, DeviceId = record.Id, CommandId = $"c{i}", PreviousVersion = "1.0.0", RollbackCommandId = states[i].Rollback, AssignedAt = Now };
            targeted.Add(record);
            devices.Add(new RolloutDevice
            {
                DeviceId = record.Id, State = states[i].State, Online = true, PreviousVersion = "1.0.0", Assignment = assignment, Device = record,
                RollbackFinal = states[i].Rollback is not null,
            });
        }

        return new RolloutSnapshot(rollout, targeted, devices);
    }

    private static DeviceRecord Device(string id, string serving, bool online = true) => new()
    {
        Id = id, Online = online, Models = [new ModelStatus { Model = "scorer", Version = 1, PackageVersion = serving, State = "READY" }],
    };

    /// <summary>A device of the rollout whose benchmark (sent first, no deploy yet) came back as <paramref name="benchmark"/> says.</summary>
    private static RolloutDevice Benchmarked(RolloutRecord rollout, string id, CommandRecord benchmark)
    {
        var assignment = new RolloutAssignment { RolloutId = rollout.Id, DeviceId = id, BenchmarkCommandId = benchmark.Id, PreviousVersion = "1.0.0", AssignedAt = Now };
        return new RolloutDevice
        {
            DeviceId = id, Online = true, PreviousVersion = "1.0.0", Assignment = assignment,
            State = RolloutPlanner.StateOf(rollout, assignment, Device(id, "1.0.0"), null, null, Now, benchmark),
            BenchmarkP95Ms = benchmark.Replies[^1].Benchmark!.P95Ms, BenchmarkPassed = RolloutPlanner.BenchmarkPasses(rollout, benchmark),
        };
    }

    private static CommandRecord Benchmark(double p95Ms)
    {
        var command = Command((ReplyState.Succeeded, null, true));
        command.Replies[^1].Benchmark = new BenchmarkResult { Iterations = 100, P50Ms = p95Ms / 2, P95Ms = p95Ms, P99Ms = p95Ms, Provider = "CPUExecutionProvider" };
        return command;
    }

    private static CommandRecord Command(params (ReplyState State, UpdateStep? Step, bool Final)[] replies)
    {
        var command = new CommandRecord { Id = "c1", DeviceId = "d1" };
        foreach (var (state, step, final) in replies)
        {
            command.Replies.Add(new ReplyMessage { CommandId = "c1", State = state, Step = step, Final = final });
            command.State = state.ToCommandState();
            command.Final = final;
        }

        return command;
    }
}
