using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>The steps of a deploy, as replies and the status name them.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UpdateStep>))]
public enum UpdateStep
{
    /// <summary>Signature, expiry, agent version, size and version checks, before anything is downloaded.</summary>
    [JsonStringEnumMemberName("verify")]
    Verify,

    [JsonStringEnumMemberName("download")]
    Download,

    /// <summary>The verified files copied under the repository's staging folder.</summary>
    [JsonStringEnumMemberName("stage")]
    Stage,

    /// <summary>Warm-up and golden vectors on the staged version.</summary>
    [JsonStringEnumMemberName("test")]
    Test,

    [JsonStringEnumMemberName("shadow")]
    Shadow,

    /// <summary>The new version serves, on probation.</summary>
    [JsonStringEnumMemberName("switch")]
    Switch,

    /// <summary>Probation is over: the version is kept.</summary>
    [JsonStringEnumMemberName("confirm")]
    Confirm,

    [JsonStringEnumMemberName("rollback")]
    Rollback,
}
