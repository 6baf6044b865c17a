using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>The states a reply reports (on the wire as the snake_case names).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReplyState>))]
public enum ReplyState
{
    [JsonStringEnumMemberName("accepted")]
    Accepted,

    [JsonStringEnumMemberName("progress")]
    Progress,

    [JsonStringEnumMemberName("succeeded")]
    Succeeded,

    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>The device refused the command or its package (the reason says why); nothing was changed.</summary>
    [JsonStringEnumMemberName("rejected")]
    Rejected,

    /// <summary>The update was installed, then undone by the device itself (the reason says why).</summary>
    [JsonStringEnumMemberName("rolled_back")]
    RolledBack,
}
