using EdgeInference.Agent.Updates;
using EdgeInference.Contracts;

namespace EdgeInference.Tests.Updates;

/// <summary>A model update's decisions, as a pure function of its record and an event: no files, no agent, no clock.</summary>
public sealed class UpdateStateMachineTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly UpdateOptions Options = new() { CrashLoopRestarts = 3, CrashLoopWindow = TimeSpan.FromMinutes(10) };

    [Fact]
    public void AStartOnProbation_CountsTheStart_AndKeepsTheVersion()
    {
        var record = Record(UpdatePhase.Switched, switchedAt: Now.AddMinutes(-1));

        var next = Next(record, new UpdateEvent.AgentStarted(Now, SlotInstalled: true, SlotHoldsVersion: true))!;

        Assert.Equal((UpdatePhase.Switched, 1, UpdateEffects.None, (ReplyState?)null), (next.Phase, next.StartsSinceSwitch, next.Effects, next.Reply));
        Assert.Equal(Now.AddMinutes(-1), next.SwitchedAt);
    }

    [Fact]
    public void TheThirdStartWithinTheWindow_IsACrashLoop_TheVersionIsRemovedAndTheFleetTold()
    {
        var record = Record(UpdatePhase.Switched, switchedAt: Now.AddMinutes(-2), starts: 2);

        var next = Next(record, new UpdateEvent.AgentStarted(Now, true, true))!;

        Assert.Equal((UpdatePhase.RolledBack, "crash_loop", UpdateEffects.RemoveVersion), (next.Phase, next.Reason, next.Effects));
        Assert.Equal((ReplyState.RolledBack, UpdateStep.Rollback, true), (next.Reply, next.Step, next.Final));
        Assert.Equal("the agent started 3 times within 10 min of switching to 2.0.0", next.Message);
    }

    [Fact]
    public void StartsSpreadPastTheWindow_AreNotACrashLoop()
    {
        var record = Record(UpdatePhase.Switched, switchedAt: Now.AddMinutes(-11), starts: 5);
        Assert.Equal(UpdatePhase.Switched, Next(record, new UpdateEvent.AgentStarted(Now, true, true))!.Phase);
    }

    [Fact]
    public void AnUpdateKilledBetweenTheRenameAndItsSave_IsSwitchedAtStart_WhileOneKilledBeforeTheRenameResumesItsDownload()
    {
        var renamed = Next(Record(UpdatePhase.Downloading), new UpdateEvent.AgentStarted(Now, SlotInstalled: true, SlotHoldsVersion: true))!;
        Assert.Equal((UpdatePhase.Switched, 1, (DateTimeOffset?)Now), (renamed.Phase, renamed.StartsSinceSwitch, renamed.SwitchedAt));

        Assert.Null(Next(Record(UpdatePhase.Downloading), new UpdateEvent.AgentStarted(Now, SlotInstalled: false, SlotHoldsVersion: false)));
    }

    [Fact]
    public void AVersionOnProbationWhoseFolderIsGone_IsRolledBackAtStart_WithNothingToRemove()
    {
        var next = Next(Record(UpdatePhase.Switched, switchedAt: Now), new UpdateEvent.AgentStarted(Now, SlotInstalled: false, SlotHoldsVersion: false))!;
        Assert.Equal((UpdatePhase.RolledBack, "missing", UpdateEffects.None, (ReplyState?)null), (next.Phase, next.Reason, next.Effects, next.Reply));
    }

    [Theory]
    [InlineData(UpdatePhase.Confirmed, ReplyState.Succeeded, null, true)]
    [InlineData(UpdatePhase.Switched, ReplyState.Progress, UpdateStep.Switch, false)]
    [InlineData(UpdatePhase.RolledBack, ReplyState.RolledBack, null, true)]
    [InlineData(UpdatePhase.Failed, ReplyState.Failed, null, true)]
    public void ARepeatedCommand_IsAnsweredWithWhereTheUpdateStands_AndChangesNothing(UpdatePhase phase, ReplyState reply, UpdateStep? step, bool final)
    {
        var next = Next(Record(phase), new UpdateEvent.CommandRepeated())!;
        Assert.Equal((phase, reply, step, final, false), (next.Phase, next.Reply, next.Step, next.Final, next.Saves));
    }

    [Fact]
    public void ARepeatedCommand_WhileItsDownloadRuns_IsAnsweredWhenTheDownloadIsDone()
    {
        Assert.Null(Next(Record(UpdatePhase.Downloading), new UpdateEvent.CommandRepeated()));
    }

    [Fact]
    public void ASwitchThatLoads_StartsProbation_AndOneThatDoesNotIsRolledBack()
    {
        var loaded = Next(Record(UpdatePhase.Downloading), new UpdateEvent.Switched(Now, LoadError: null))!;
        Assert.Equal((UpdatePhase.Switched, UpdateEffects.WatchProbation, ReplyState.Progress, UpdateStep.Switch, false), (loaded.Phase, loaded.Effects, loaded.Reply, loaded.Step, loaded.Final));
        Assert.Equal(((DateTimeOffset?)Now, 0), (loaded.SwitchedAt, loaded.StartsSinceSwitch));

        var broken = Next(Record(UpdatePhase.Downloading), new UpdateEvent.Switched(Now, "model.onnx: bad graph"))!;
        Assert.Equal((UpdatePhase.RolledBack, UpdateEffects.RemoveVersion, "load_failed", "model.onnx: bad graph"), (broken.Phase, broken.Effects, broken.Reason, broken.Message));
        Assert.Equal((ReplyState.RolledBack, UpdateStep.Switch, true), (broken.Reply, broken.Step, broken.Final));
    }

    [Fact]
    public void TheEndOfProbation_ConfirmsAVersionStillReady_AndRollsBackOneThatIsNot()
    {
        var confirmed = Next(Record(UpdatePhase.Switched, switchedAt: Now), new UpdateEvent.ProbationOver(LoadError: null))!;
        Assert.Equal((UpdatePhase.Confirmed, UpdateEffects.Prune, ReplyState.Succeeded, UpdateStep.Confirm, true), (confirmed.Phase, confirmed.Effects, confirmed.Reply, confirmed.Step, confirmed.Final));

        var lost = Next(Record(UpdatePhase.Switched, switchedAt: Now), new UpdateEvent.ProbationOver("session closed"))!;
        Assert.Equal((UpdatePhase.RolledBack, UpdateEffects.RemoveVersion, "not_ready", ReplyState.RolledBack, UpdateStep.Confirm), (lost.Phase, lost.Effects, lost.Reason, lost.Reply, lost.Step));
    }

    [Fact]
    public void AFailedStep_FailsTheUpdate_DeletesWhatWasStaged_AndRepliesWithItsReason()
    {
        var next = Next(Record(UpdatePhase.Downloading), new UpdateEvent.StepFailed(ReplyState.Rejected, "bad_signature", "no trusted key signed it"))!;
        Assert.Equal((UpdatePhase.Failed, UpdateEffects.DeleteStaged, ReplyState.Rejected, true), (next.Phase, next.Effects, next.Reply, next.Final));
        Assert.Equal(("bad_signature", "no trusted key signed it"), (next.Reason, next.Message));
    }

    [Fact]
    public void ARollbackCommand_EndsAnUpdateThatServed_AndLeavesOneAlreadyOverAlone()
    {
        var next = Next(Record(UpdatePhase.Confirmed), new UpdateEvent.RolledBackOnCommand(null))!;
        Assert.Equal((UpdatePhase.RolledBack, "rollback_command", "rolled back on command", (ReplyState?)null), (next.Phase, next.Reason, next.Message, next.Reply));
        Assert.Null(Next(Record(UpdatePhase.Failed), new UpdateEvent.RolledBackOnCommand("gate failed")));
    }

    [Fact]
    public void EventsThatDoNotBelongToThePhase_ChangeNothing()
    {
        Assert.Null(Next(Record(UpdatePhase.Confirmed), new UpdateEvent.ProbationOver(null)));
        Assert.Null(Next(Record(UpdatePhase.Failed), new UpdateEvent.Switched(Now, null)));
        Assert.Null(Next(Record(UpdatePhase.Switched), new UpdateEvent.StepFailed(ReplyState.Failed, "download_failed", "x")));
        Assert.Null(Next(Record(UpdatePhase.Confirmed), new UpdateEvent.AgentStarted(Now, true, true)));
    }

    [Fact]
    public void ATransition_WritesItsStateIntoTheRecord()
    {
        var record = Record(UpdatePhase.Switched, switchedAt: Now, starts: 2);
        Next(record, new UpdateEvent.AgentStarted(Now.AddMinutes(1), true, true))!.ApplyTo(record, Now.AddMinutes(1));
        Assert.Equal((UpdatePhase.RolledBack, "crash_loop", 3, Now.AddMinutes(1)), (record.Phase, record.Reason, record.StartsSinceSwitch, record.UpdatedAt));
    }

    private static UpdateTransition? Next(UpdateRecord record, UpdateEvent @event) => UpdateStateMachine.Next(record, @event, Options);

    private static UpdateRecord Record(UpdatePhase phase, DateTimeOffset? switchedAt = null, int starts = 0) => new()
    {
        CommandId = "deploy-1", Model = "scorer", Version = "2.0.0", Slot = 2, Phase = phase, SwitchedAt = switchedAt, StartsSinceSwitch = starts,
    };
}
