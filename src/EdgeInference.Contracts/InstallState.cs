using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Where one assigned device stands with a rollout's version.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<InstallState>))]
public enum InstallState
{
    /// <summary>Assigned; the command is not yet sent or not yet answered.</summary>
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>The device is downloading, verifying or testing.</summary>
    [JsonStringEnumMemberName("installing")]
    Installing,

    /// <summary>The device switched to the version and it is on probation: a crash loop may still roll it back.</summary>
    [JsonStringEnumMemberName("probation")]
    Probation,

    /// <summary>The device serves the version, confirmed after its probation.</summary>
    [JsonStringEnumMemberName("installed")]
    Installed,

    /// <summary>The device refused or failed the install (the reason is in its reply).</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Offline past the rollout's offline timeout: it does not hold up the stage and will install when it returns.</summary>
    [JsonStringEnumMemberName("offline")]
    Offline,

    /// <summary>The rollout rolled the device back.</summary>
    [JsonStringEnumMemberName("rolled_back")]
    RolledBack,

    /// <summary>
    /// The rollout gates on an on-device benchmark (<c>bench_p95_ms</c>): the device is timing the package beside what
    /// it serves, and gets the deploy only when its figures pass.
    /// </summary>
    [JsonStringEnumMemberName("benchmarking")]
    Benchmarking,
}
