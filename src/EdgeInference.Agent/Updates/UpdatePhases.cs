namespace EdgeInference.Agent.Updates;

/// <summary>Where an update stands. Only <see cref="Switched"/> changes what the device serves; the rest are before or after.</summary>
public static class UpdatePhases
{
    /// <summary>Verified; downloading, staging or testing (all redone from the downloads after a restart).</summary>
    public const string Downloading = "downloading";

    /// <summary>Serving the new version, on probation.</summary>
    public const string Switched = "switched";

    public const string Confirmed = "confirmed";

    public const string Failed = "failed";

    public const string RolledBack = "rolled_back";

    public static bool IsFinal(string phase) => phase is Confirmed or Failed or RolledBack;
}
