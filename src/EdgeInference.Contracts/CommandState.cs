using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Where a command the fleet sent stands: not yet published, sent, the state of its latest reply, or ended by the fleet.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CommandState>))]
public enum CommandState
{
    [JsonStringEnumMemberName("pending")]
    Pending,

    [JsonStringEnumMemberName("sent")]
    Sent,

    [JsonStringEnumMemberName("accepted")]
    Accepted,

    [JsonStringEnumMemberName("progress")]
    Progress,

    [JsonStringEnumMemberName("succeeded")]
    Succeeded,

    [JsonStringEnumMemberName("failed")]
    Failed,

    [JsonStringEnumMemberName("rejected")]
    Rejected,

    [JsonStringEnumMemberName("rolled_back")]
    RolledBack,

    /// <summary>Past its expiry without a final reply.</summary>
    [JsonStringEnumMemberName("timed_out")]
    TimedOut,

    /// <summary>Withdrawn by the fleet before it was sent (an aborted rollout).</summary>
    [JsonStringEnumMemberName("cancelled")]
    Cancelled,
}
