namespace EdgeInference.Contracts;

/// <summary>The commands a device understands.</summary>
public static class CommandNames
{
    /// <summary>Download, verify, test and install a signed model package.</summary>
    public const string Deploy = "deploy";

    /// <summary>Return a model to its previous version (one the device already verified and kept).</summary>
    public const string Rollback = "rollback";

    /// <summary>Re-read the model repository now.</summary>
    public const string Reload = "reload";

    /// <summary>Stop cleanly so the service manager starts the agent again.</summary>
    public const string Restart = "restart";

    /// <summary>Apply the desired configuration and acknowledge it.</summary>
    public const string Configure = "configure";

    /// <summary>Reply with the agent's recent log lines.</summary>
    public const string CollectLogs = "collect_logs";

    /// <summary>Take a newer signed trust document: signing keys, revocations, version floors, root keys.</summary>
    public const string Trust = "trust";

    /// <summary>
    /// Time a signed package on the device without installing it: verified and downloaded as a deploy is (the package is
    /// in <see cref="CommandMessage.Deploy"/>), loaded in a repository of its own, then run.
    /// </summary>
    public const string Benchmark = "benchmark";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Deploy, Rollback, Reload, Restart, Configure, CollectLogs, Trust, Benchmark };
}
