namespace EdgeInference.Packaging;

/// <summary>The checks on a verified manifest before a device installs it: expiry, minimum agent version, size, anti-rollback.</summary>
public static class InstallPolicy
{
    /// <summary>Throws <see cref="PackageRejectedException"/> with the reason when the device must not install <paramref name="manifest"/>.</summary>
    /// <param name="installed">The package version the device serves now for this model, if it has one.</param>
    public static void Check(PackageManifest manifest, SemanticVersion? installed, SemanticVersion agentVersion, DateTimeOffset now, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(agentVersion);
        if (manifest.ExpiresAt is { } expires && now >= expires)
        {
            throw new PackageRejectedException(RejectionReasons.Expired, $"{manifest.Name} {manifest.Version} expired at {expires:O}");
        }

        if (manifest.MinAgentVersion is { } text && SemanticVersion.Parse(text) is var minimum && agentVersion.CompareTo(minimum) < 0)
        {
            throw new PackageRejectedException(RejectionReasons.AgentTooOld, $"{manifest.Name} {manifest.Version} needs agent {minimum} or later; this is {agentVersion}");
        }

        var total = manifest.Files.Sum(f => f.Size);
        if (total > maxBytes)
        {
            throw new PackageRejectedException(RejectionReasons.TooLarge, $"{manifest.Name} {manifest.Version} is {total} bytes; this device takes at most {maxBytes}");
        }

        var version = SemanticVersion.Parse(manifest.Version);
        if (installed is not null && version.CompareTo(installed) < 0 && !manifest.Rollback)
        {
            throw new PackageRejectedException(RejectionReasons.Downgrade, $"{manifest.Name} {manifest.Version} is older than the installed {installed}, and the package is not a signed rollback");
        }
    }
}
