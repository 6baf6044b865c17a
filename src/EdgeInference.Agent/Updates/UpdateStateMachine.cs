using EdgeInference.Contracts;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// A model update's decisions as one pure function: given its durable record and what just happened, the next phase,
/// the effects on the installed versions and the reply. No I/O and no clock of its own (the time comes in the event);
/// <see cref="UpdateService"/> observes, asks, and carries the answer out.
/// <code>
/// downloading ──switched, ready──▶ switched ──probation over, ready──▶ confirmed
///      │  └──switched, not ready──▶ rolled_back ◀──not ready / crash loop / folder gone / rollback command
///      └──step failed──▶ failed
/// </code>
/// </summary>
public static class UpdateStateMachine
{
    /// <summary>The next state of <paramref name="record"/> after <paramref name="event"/>; null when the event changes nothing.</summary>
    public static UpdateTransition? Next(UpdateRecord record, UpdateEvent @event, UpdateOptions options)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(@event);
        ArgumentNullException.ThrowIfNull(options);
        return @event switch
        {
            UpdateEvent.AgentStarted started => Started(record, started, options),
            UpdateEvent.CommandRepeated => Repeated(record),
            UpdateEvent.StepFailed failed when record.Phase == UpdatePhase.Downloading =>
                Same(record, UpdatePhase.Failed, UpdateEffects.DeleteStaged, failed.State) with { Reason = failed.Reason, Message = failed.Message },
            UpdateEvent.Switched { LoadError: null } switched when record.Phase == UpdatePhase.Downloading =>
                Same(record, UpdatePhase.Switched, UpdateEffects.WatchProbation, ReplyState.Progress, UpdateStep.Switch) with { SwitchedAt = switched.Now, StartsSinceSwitch = 0 },
            UpdateEvent.Switched switched when record.Phase == UpdatePhase.Downloading =>
                Same(record, UpdatePhase.RolledBack, UpdateEffects.RemoveVersion, ReplyState.RolledBack, UpdateStep.Switch) with { SwitchedAt = switched.Now, StartsSinceSwitch = 0, Reason = "load_failed", Message = switched.LoadError },
            UpdateEvent.ProbationOver { LoadError: null } when record.Phase == UpdatePhase.Switched =>
                Same(record, UpdatePhase.Confirmed, UpdateEffects.Prune, ReplyState.Succeeded, UpdateStep.Confirm) with { Reason = null, Message = null },
            UpdateEvent.ProbationOver over when record.Phase == UpdatePhase.Switched =>
                Same(record, UpdatePhase.RolledBack, UpdateEffects.RemoveVersion, ReplyState.RolledBack, UpdateStep.Confirm) with { Reason = "not_ready", Message = over.LoadError },
            UpdateEvent.RolledBackOnCommand command when record.Phase is not (UpdatePhase.Failed or UpdatePhase.RolledBack) =>
                Same(record, UpdatePhase.RolledBack) with { Reason = "rollback_command", Message = command.Reason ?? "rolled back on command" },
            _ => null,
        };
    }

    /// <summary>
    /// A start: an update killed between its switch and saving it is switched; one on probation counts the start, and
    /// is rolled back when its folder is gone or the agent keeps restarting within <see cref="UpdateOptions.CrashLoopWindow"/>.
    /// </summary>
    private static UpdateTransition? Started(UpdateRecord record, UpdateEvent.AgentStarted started, UpdateOptions options)
    {
        var switchedAt = record.SwitchedAt;
        if (record.Phase == UpdatePhase.Downloading && started.SlotHoldsVersion)
        {
            switchedAt ??= started.Now; // the rename happened; the save after it did not
        }
        else if (record.Phase != UpdatePhase.Switched)
        {
            return null; // a download resumes; a finished update has nothing to decide
        }

        var starts = record.StartsSinceSwitch + 1;
        var switched = Same(record, UpdatePhase.Switched) with { SwitchedAt = switchedAt, StartsSinceSwitch = starts };
        if (!started.SlotInstalled)
        {
            return switched with { Phase = UpdatePhase.RolledBack, Reason = "missing", Message = "the installed version's folder is gone" };
        }

        var withinWindow = started.Now - (switchedAt ?? started.Now) <= options.CrashLoopWindow;
        if (starts >= options.CrashLoopRestarts && withinWindow)
        {
            return switched with
            {
                Phase = UpdatePhase.RolledBack, Effects = UpdateEffects.RemoveVersion, Reply = ReplyState.RolledBack, Step = UpdateStep.Rollback,
                Reason = "crash_loop", Message = $"the agent started {starts} times within {options.CrashLoopWindow.TotalMinutes:0.#} min of switching to {record.Version}",
            };
        }

        return switched;
    }

    /// <summary>A repeated command is answered with where the update stands, and changes nothing (a download under way answers when it is done).</summary>
    private static UpdateTransition? Repeated(UpdateRecord record)
    {
        if (record.Phase == UpdatePhase.Downloading)
        {
            return null;
        }

        var reply = record.Phase switch
        {
            UpdatePhase.Confirmed => ReplyState.Succeeded,
            UpdatePhase.Switched => ReplyState.Progress,
            UpdatePhase.RolledBack => ReplyState.RolledBack,
            _ => ReplyState.Failed,
        };
        return Same(record, record.Phase, UpdateEffects.None, reply, record.Phase == UpdatePhase.Switched ? UpdateStep.Switch : null) with { Saves = false };
    }

    /// <summary>A transition that keeps what the record holds, except what is named.</summary>
    private static UpdateTransition Same(UpdateRecord record, UpdatePhase phase, UpdateEffects effects = UpdateEffects.None, ReplyState? reply = null, UpdateStep? step = null) =>
        new(phase, effects, reply, step) { Reason = record.Reason, Message = record.Message, SwitchedAt = record.SwitchedAt, StartsSinceSwitch = record.StartsSinceSwitch };
}
