using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Where a device's latest update of a model stands (its durable record, and the status).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UpdatePhase>))]
public enum UpdatePhase
{
    /// <summary>Verified, downloading, staging or testing; nothing serves it yet.</summary>
    [JsonStringEnumMemberName("downloading")]
    Downloading,

    /// <summary>Serving, on probation.</summary>
    [JsonStringEnumMemberName("switched")]
    Switched,

    [JsonStringEnumMemberName("confirmed")]
    Confirmed,

    [JsonStringEnumMemberName("failed")]
    Failed,

    [JsonStringEnumMemberName("rolled_back")]
    RolledBack,
}
