using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Store;

/// <summary>A command sent to a device, and what the device replied.</summary>
public sealed class CommandRecord
{
    public string Id { get; set; } = "";

    public string DeviceId { get; set; } = "";

    public CommandMessage Message { get; set; } = new();

    public string? RolloutId { get; set; }

    /// <summary><c>pending</c> (not yet published), <c>sent</c>, then the state of the latest reply, or <c>timed_out</c>.</summary>
    public CommandState State { get; set; } = CommandState.Pending;

    public bool Final { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public int Sends { get; set; }

    /// <summary>When the latest reply arrived (or the command was sent): a command that stays silent past its timeout is re-sent.</summary>
    public DateTimeOffset? LastActivity { get; set; }

    /// <summary>Until when the replica sending it holds the command: another replica does not send it meanwhile.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }

    public List<ReplyMessage> Replies { get; set; } = [];

    public ReplyMessage? Last => Replies.Count > 0 ? Replies[^1] : null;
}
