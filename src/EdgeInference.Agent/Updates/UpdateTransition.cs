using EdgeInference.Contracts;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// The decision <see cref="UpdateStateMachine.Next"/> returns: the record's next state, what to do to the installed
/// models, and the reply to send, if any. <see cref="UpdateService"/> carries it out in a fixed order: effects that
/// undo an install, the save, pruning, then the reply (persist, then report).
/// </summary>
public sealed record UpdateTransition(UpdatePhase Phase, UpdateEffects Effects = UpdateEffects.None, ReplyState? Reply = null, UpdateStep? Step = null)
{
    public string? Reason { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset? SwitchedAt { get; init; }

    public int StartsSinceSwitch { get; init; }

    /// <summary>Whether the record changes (and is saved); a repeated command's reply changes nothing.</summary>
    public bool Saves { get; init; } = true;

    /// <summary>Whether the reply is the command's last: every reply but a progress one.</summary>
    public bool Final => Reply is not ReplyState.Progress;

    /// <summary>Writes the transition's state into <paramref name="record"/>.</summary>
    public void ApplyTo(UpdateRecord record, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        record.Phase = Phase;
        record.Reason = Reason;
        record.Message = Message;
        record.SwitchedAt = SwitchedAt;
        record.StartsSinceSwitch = StartsSinceSwitch;
        record.UpdatedAt = now;
    }
}
