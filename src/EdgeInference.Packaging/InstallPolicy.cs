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
        if (manifest.ExpiresAt is not { } expires)
        {
            // A package that never expires could be replayed forever (a signed rollback most of all).
            throw new PackageRejectedException(RejectionReasons.NoExpiry, $"{manifest.Name} {manifest.Version} has no expires_at; every package must expire");
        }

        if (now >= expires)
        {
            throw new PackageRejectedException(RejectionReasons.Expired, $"{manifest.Name} {manifest.Version} expired at {expires:O}");
        }

        if (manifest.MinAgentVersion is { } text && SemanticVersion.Parse(text) is var minimum && agentVersion.CompareTo(minimum) < 0)
        {
            throw new PackageRejectedException(RejectionReasons.AgentTooOld, $"{manifest.Name} {manifest.Version} needs agent {minimum} or later; this is {agentVersion}");
        }

        // Added up without overflow: sizes near long.MaxValue must not wrap into a small total.
        var total = 0L;
        foreach (var file in manifest.Files)
        {
            total = file.Size < 0 || file.Size > maxBytes - total ? long.MaxValue : total + file.Size;
            if (total == long.MaxValue)
            {
                throw new PackageRejectedException(RejectionReasons.TooLarge, $"{manifest.Name} {manifest.Version} is more than the {maxBytes} bytes this device takes");
            }
        }

        var version = SemanticVersion.Parse(manifest.Version);
        if (installed is not null && version.CompareTo(installed) < 0 && !manifest.Rollback)
        {
            throw new PackageRejectedException(RejectionReasons.Downgrade, $"{manifest.Name} {manifest.Version} is older than the installed {installed}, and the package is not a signed rollback");
        }
    }
}
