namespace EdgeInference.Fleet.Rollouts;

/// <summary>Where one assigned device stands with the rollout's version.</summary>
public static class InstallStates
{
    /// <summary>Assigned; the command is not yet sent or not yet answered.</summary>
    public const string Pending = "pending";

    /// <summary>The device is downloading, verifying or testing.</summary>
    public const string Installing = "installing";

    /// <summary>The device switched to the version and it is on probation: a crash loop may still roll it back.</summary>
    public const string Probation = "probation";

    /// <summary>The device serves the version, confirmed after its probation.</summary>
    public const string Installed = "installed";

    /// <summary>The device refused or failed the install (the reason is in its reply).</summary>
    public const string Failed = "failed";

    /// <summary>Offline past the rollout's offline timeout: it does not hold up the stage and will install when it returns.</summary>
    public const string Offline = "offline";

    /// <summary>The rollout rolled the device back.</summary>
    public const string RolledBack = "rolled_back";

    /// <summary>Whether the device's outcome is known: probation is not, since the device may still roll back by itself.</summary>
    public static bool IsSettled(string state) => state is Installed or Failed or Offline or RolledBack;

    /// <summary>Whether the device serves the version now (its telemetry and drift count for the gates).</summary>
    public static bool IsServing(string state) => state is Installed or Probation;
}
