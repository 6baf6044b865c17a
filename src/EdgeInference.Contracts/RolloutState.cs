using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Where a staged rollout stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RolloutState>))]
public enum RolloutState
{
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>A stage passed; the next waits for an operator's promote.</summary>
    [JsonStringEnumMemberName("waiting_approval")]
    WaitingApproval,

    [JsonStringEnumMemberName("paused")]
    Paused,

    [JsonStringEnumMemberName("rolling_back")]
    RollingBack,

    [JsonStringEnumMemberName("rolled_back")]
    RolledBack,

    /// <summary>Every stage passed; the rollout still gives its version to devices that join later.</summary>
    [JsonStringEnumMemberName("completed")]
    Completed,

    [JsonStringEnumMemberName("aborted")]
    Aborted,
}
