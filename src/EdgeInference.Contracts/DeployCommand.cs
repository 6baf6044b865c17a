using System.Globalization;
using EdgeInference.Packaging;

namespace EdgeInference.Contracts;

/// <summary>The package a <c>deploy</c> installs: its signed manifest and where its files are.</summary>
public sealed class DeployCommand
{
    /// <summary>The package's base URL; file <c>f</c> is at <c>{PackageUrl}/files/{f}</c>.</summary>
    public string PackageUrl { get; set; } = "";

    public SignedManifest Package { get; set; } = new();

    /// <summary>
    /// The bearer token for this package's files: short-lived and good for this package only (never the device's MQTT
    /// secret). Absent when the files need no token.
    /// </summary>
    public string? DownloadToken { get; set; }

    /// <summary>The fleet's current signed trust document; the device takes it first if it is newer than its own.</summary>
    public SignedTrust? Trust { get; set; }

    /// <summary>Live requests the new version sees in shadow before switching (0: no shadow mode).</summary>
    public int ShadowRequests { get; set; }

    /// <summary>The longest shadow mode lasts, in seconds, before the agreement so far is reported.</summary>
    public double ShadowSeconds { get; set; } = 60;

    /// <summary>
    /// How close a single-value output must be to the serving version's to agree: within
    /// <c>tolerance × (1 + |served|)</c>. Outputs with several classes agree when the top class is the same.
    /// </summary>
    public double ShadowTolerance { get; set; } = 0.05;

    /// <summary>What is out of range in the shadow-mode settings, or null (the fleet and the device check the same rule).</summary>
    public string? ShadowProblem() =>
        ShadowRequests is < 0 or > 100_000 || !(ShadowSeconds is > 0 and <= 86_400) || !(ShadowTolerance >= 0)
            ? string.Create(CultureInfo.InvariantCulture, $"shadow mode takes 0–100000 requests, more than 0 and up to 86400 seconds, and a tolerance ≥ 0 (got {ShadowRequests}, {ShadowSeconds}, {ShadowTolerance})")
            : null;
}
