namespace EdgeInference.Contracts;

/// <summary>
/// <c>edge/{deviceId}/commands/{command}</c>: a command for one device. Every command has an id, which its
/// replies on <c>edge/{deviceId}/replies/{id}</c> carry, and an expiry after which the device ignores it.
/// </summary>
public sealed class CommandMessage
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public string Id { get; set; } = "";

    /// <summary>See <see cref="CommandNames"/>; equal to the topic's last level.</summary>
    public string Command { get; set; } = "";

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The model a <c>deploy</c>, <c>rollback</c> or <c>reload</c> is about.</summary>
    public string? Model { get; set; }

    /// <summary>For <c>deploy</c>, and for <c>benchmark</c>: the package.</summary>
    public DeployCommand? Deploy { get; set; }

    /// <summary>For <c>benchmark</c>: how many runs to time.</summary>
    public BenchmarkCommand? Benchmark { get; set; }

    /// <summary>For <c>rollback</c>: the version to return to; the device's previous version when absent.</summary>
    public string? ToVersion { get; set; }

    /// <summary>Why the operator or the rollout sent it (shown in the device's reply and history).</summary>
    public string? Reason { get; set; }

    /// <summary>For <c>configure</c>: the desired settings.</summary>
    public DesiredConfiguration? Configuration { get; set; }

    /// <summary>For <c>trust</c>: the signed trust document to take.</summary>
    public EdgeInference.Packaging.SignedTrust? Trust { get; set; }
}
