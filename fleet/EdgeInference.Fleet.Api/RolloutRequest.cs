namespace EdgeInference.Fleet.Api;

/// <summary>The body of <c>POST /api/v1/rollouts</c>.</summary>
public sealed class RolloutRequest
{
    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>Tag selector <c>key=value,…</c>; empty or absent targets every device.</summary>
    public string? Target { get; set; }

    /// <summary>Stages, e.g. <c>1,10%,50%,100%</c> (the default).</summary>
    public string? Stages { get; set; }

    /// <summary>Soak per stage, e.g. <c>5m</c> (the default).</summary>
    public string? Soak { get; set; }

    /// <summary>Gates, e.g. <c>error_rate&lt;=0.01</c>; default <c>install_rate&gt;=1</c> and <c>golden_rate&gt;=1</c>, and <c>agreement&gt;=0.9</c> with shadow mode.</summary>
    public List<string>? Gates { get; set; }

    /// <summary><c>pause</c> (default) or <c>rollback</c>.</summary>
    public string? OnFailure { get; set; }

    public bool RequireApproval { get; set; }

    /// <summary>How long past the soak a gate without data is waited for, e.g. <c>10m</c> (the default).</summary>
    public string? NoDataTimeout { get; set; }

    /// <summary><c>fail</c> (default) or <c>pass</c>: what a gate still without data then does.</summary>
    public string? OnNoData { get; set; }

    /// <summary>Live requests each device's new version replays in shadow mode before switching (0 or absent: none).</summary>
    public int? ShadowRequests { get; set; }

    /// <summary>The longest a device waits for those requests, e.g. <c>1m</c> (the default).</summary>
    public string? ShadowTimeout { get; set; }

    /// <summary>How close single-value outputs must be to agree (default 0.05, relative to 1 + |served|).</summary>
    public double? ShadowTolerance { get; set; }

    /// <summary>The most deploys sent in any minute (1 to 100,000; absent: no cap).</summary>
    public int? MaxPerMinute { get; set; }

    /// <summary>How long an offline device may hold up a stage, e.g. <c>10m</c> (the default).</summary>
    public string? OfflineTimeout { get; set; }
}
