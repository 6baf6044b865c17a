using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Api;

/// <summary>A command sent to a device, and what the device replied.</summary>
public sealed class CommandView
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

    public List<ReplyMessage> Replies { get; set; } = [];
}
