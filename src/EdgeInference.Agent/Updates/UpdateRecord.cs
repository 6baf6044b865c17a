using EdgeInference.Contracts;
using EdgeInference.Packaging;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// The durable state of one model's latest update (<c>&lt;data&gt;/updates/&lt;model&gt;.json</c>), rewritten
/// atomically at every step, so a restart (even after <c>kill -9</c>) knows where the update stood.
/// </summary>
public sealed class UpdateRecord
{
    public string CommandId { get; set; } = "";

    public string Model { get; set; } = "";

    /// <summary>The package's semantic version.</summary>
    public string Version { get; set; } = "";

    /// <summary>The repository version (folder number) it installs as.</summary>
    public long Slot { get; set; }

    /// <summary>See <see cref="UpdatePhases"/>.</summary>
    public UpdatePhase Phase { get; set; } = UpdatePhase.Downloading;

    public string PackageUrl { get; set; } = "";

    /// <summary>The folder of a package brought on local media (<c>edge-agent install</c>), read instead of downloading.</summary>
    public string? LocalPackage { get; set; }

    public SignedManifest Package { get; set; } = new();

    /// <summary>The command's download token, kept (in the owner-only data folder) so a download resumed after a restart can go on.</summary>
    public string? DownloadToken { get; set; }

    public DateTimeOffset? SwitchedAt { get; set; }

    /// <summary>Starts of the agent since the switch, while on probation.</summary>
    public int StartsSinceSwitch { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public int? GoldenPassed { get; set; }

    public int? GoldenTotal { get; set; }

    /// <summary>Shadow mode as the command asked for it (kept so a resumed update shadows too).</summary>
    public int ShadowRequestsWanted { get; set; }

    public double ShadowSeconds { get; set; }

    public double ShadowTolerance { get; set; }

    /// <summary>Live requests the new version replayed in shadow mode.</summary>
    public int? ShadowRequests { get; set; }

    /// <summary>Share of them where it agreed with the serving version.</summary>
    public double? ShadowAgreement { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
