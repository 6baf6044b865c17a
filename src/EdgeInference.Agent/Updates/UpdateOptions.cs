namespace EdgeInference.Agent.Updates;

/// <summary>How the agent installs model packages the fleet sends (section <c>Updates</c>; active with the MQTT link).</summary>
public sealed class UpdateOptions
{
    public const string Section = "Updates";

    /// <summary>A folder of <c>*.pem</c> P-256 public keys trusted to sign packages; without one, every package is refused.</summary>
    public string? TrustedKeys { get; set; }

    /// <summary>
    /// A folder of <c>*.pem</c> P-256 root public keys: with them the device takes signed trust documents (rotated signing
    /// keys, revocations, version floors) signed by at least <see cref="RootThreshold"/> of them. Without, trust commands are refused.
    /// </summary>
    public string? RootKeys { get; set; }

    /// <summary>How many of <see cref="RootKeys"/> must sign the first trust document (later ones carry their own threshold).</summary>
    public int RootThreshold { get; set; } = 1;

    /// <summary>The largest package (all its files) the device accepts.</summary>
    public long MaxPackageBytes { get; set; } = 2L << 30;

    /// <summary>A download attempt fails when no bytes arrive for this long.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest a package's download (every file, every attempt) may take: a server that trickles bytes never
    /// trips <see cref="DownloadTimeout"/>, and must not hold the update queue for longer than this.
    /// </summary>
    public TimeSpan DownloadDeadline { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Attempts per file; each resumes where the last one stopped.</summary>
    public int DownloadAttempts { get; set; } = 5;

    /// <summary>How long a switched version must keep the agent up before the update is confirmed.</summary>
    public TimeSpan ProbationPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Starts of the agent during probation, within <see cref="CrashLoopWindow"/>, that mean a crash loop: the device rolls back by itself.</summary>
    public int CrashLoopRestarts { get; set; } = 3;

    public TimeSpan CrashLoopWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Installed versions kept per model (the serving one and those to roll back to).</summary>
    public int KeepVersions { get; set; } = 2;

    /// <summary>
    /// Fault injection for crash tests only: the update stops and waits at this point (<c>download</c>, <c>stage</c>,
    /// <c>test</c>, <c>switch</c> or <c>probation</c>) so a test can kill the agent there. Never set it on a device.
    /// </summary>
    public string? HoldAt { get; set; }
}
