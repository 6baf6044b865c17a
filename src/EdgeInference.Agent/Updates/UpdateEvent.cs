using EdgeInference.Contracts;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// What happened to a model's update, as <see cref="UpdateService"/> observed it: the input of
/// <see cref="UpdateStateMachine.Next"/>. Each carries the facts the decision needs (the time, whether the version is
/// installed or ready), so the decision reads nothing itself.
/// </summary>
public abstract record UpdateEvent
{
    private UpdateEvent()
    {
    }

    /// <summary>The agent started, before the repository loads; <paramref name="SlotInstalled"/>: the update's folder exists; <paramref name="SlotHoldsVersion"/>: it holds the update's version.</summary>
    public sealed record AgentStarted(DateTimeOffset Now, bool SlotInstalled, bool SlotHoldsVersion) : UpdateEvent;

    /// <summary>The fleet sent the update's command again (it resends until it hears back).</summary>
    public sealed record CommandRepeated : UpdateEvent;

    /// <summary>A step before the switch failed or refused the package (<paramref name="State"/> is <see cref="ReplyState.Failed"/> or <see cref="ReplyState.Rejected"/>).</summary>
    public sealed record StepFailed(ReplyState State, string Reason, string Message) : UpdateEvent;

    /// <summary>The version was switched in; <paramref name="LoadError"/> is null when it loaded and is ready.</summary>
    public sealed record Switched(DateTimeOffset Now, string? LoadError) : UpdateEvent;

    /// <summary>The probation period is over; <paramref name="LoadError"/> is null when the version is still ready.</summary>
    public sealed record ProbationOver(string? LoadError) : UpdateEvent;

    /// <summary>A rollback command removed the update's version.</summary>
    public sealed record RolledBackOnCommand(string? Reason) : UpdateEvent;
}
