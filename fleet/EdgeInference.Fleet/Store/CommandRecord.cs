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

    /// <summary>Past its expiry (and not final yet): it is to be marked <c>timed_out</c>, not sent.</summary>
    public bool ExpiredAt(DateTimeOffset now) => !Final && Message.ExpiresAt is { } expires && now >= expires;

    /// <summary>
    /// Worth a send now (its device's being online aside): open, not expired, held by no replica, and nothing heard of
    /// it — no send, no reply — for <paramref name="silence"/>.
    /// </summary>
    public bool DueAt(DateTimeOffset now, TimeSpan silence) =>
        !Final && !ExpiredAt(now) && !(LeaseUntil > now) && (LastActivity is not { } last || now - last >= silence);
}
