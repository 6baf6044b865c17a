namespace EdgeInference.Fleet.Hosting;

/// <summary>The fleet service's settings (section <c>Fleet</c>; <c>--data</c>, <c>--mqtt-port</c> and friends on the command line).</summary>
public sealed class FleetOptions
{
    public const string Section = "Fleet";

    /// <summary>Where the store (<c>fleet.db</c>), the packages and the generated operator token live.</summary>
    public string Data { get; set; } = "fleet-data";

    /// <summary>The embedded broker's port (1883 by default); ignored with <see cref="MqttUrl"/>.</summary>
    public int MqttPort { get; set; } = 1883;

    /// <summary>The address the embedded broker listens on.</summary>
    public string MqttBind { get; set; } = "0.0.0.0";

    /// <summary>An external broker (<c>mqtt://host:port</c>) instead of the embedded one; it must enforce the device ACL itself.</summary>
    public string? MqttUrl { get; set; }

    public string? MqttUsername { get; set; }

    public string? MqttPassword { get; set; }

    /// <summary>The URL devices use to reach this service (package downloads); default the first of <c>--urls</c>.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>The broker URL handed to enrolled devices; default <c>mqtt://&lt;PublicUrl host&gt;:&lt;MqttPort&gt;</c>.</summary>
    public string? DeviceMqttUrl { get; set; }

    /// <summary>An operator token to accept (besides the one generated into the data folder on first start).</summary>
    public string? OperatorToken { get; set; }

    /// <summary>A read-only token for dashboards.</summary>
    public string? ReaderToken { get; set; }

    /// <summary>How often the rollout engine looks at every active rollout.</summary>
    public TimeSpan RolloutInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A command that hears nothing back for this long is sent again.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long the download token in a deploy command is good for (it is minted afresh at every send).</summary>
    public TimeSpan DownloadTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The largest package file accepted.</summary>
    public long MaxPackageFileBytes { get; set; } = 2L << 30;
}
