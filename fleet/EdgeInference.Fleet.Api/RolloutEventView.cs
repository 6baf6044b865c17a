namespace EdgeInference.Fleet.Api;

/// <summary>One entry of a rollout's history: what happened and why.</summary>
public sealed class RolloutEventView
{
    public string RolloutId { get; set; } = "";

    public DateTimeOffset At { get; set; }

    /// <summary><c>started</c>, <c>advanced</c>, <c>waiting_approval</c>, <c>paused</c>, <c>resumed</c>, <c>promoted</c>, <c>rolling_back</c>, <c>rolled_back</c>, <c>completed</c>, <c>aborted</c>.</summary>
    public string Kind { get; set; } = "";

    public int Stage { get; set; }

    public string Message { get; set; } = "";

    public string? By { get; set; }
}
