using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Api;

/// <summary>A rollout's settings and where it stands.</summary>
public sealed class RolloutSummary
{
    public string Id { get; set; } = "";

    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>Tag selector: <c>key=value</c> pairs separated by commas; empty selects every device.</summary>
    public string Target { get; set; } = "";

    public List<StageSpec> Stages { get; set; } = [];

    public TimeSpan Soak { get; set; }

    public List<GateSpec> Gates { get; set; } = [];

    public ShadowSpec? Shadow { get; set; }

    /// <summary><c>pause</c> or <c>rollback</c>.</summary>
    public string OnFailure { get; set; } = "";

    public bool RequireApproval { get; set; }

    public TimeSpan NoDataTimeout { get; set; }

    /// <summary><c>fail</c> or <c>pass</c>.</summary>
    public string OnNoData { get; set; } = "";

    public int? MaxPerMinute { get; set; }

    public TimeSpan OfflineTimeout { get; set; }

    public RolloutState State { get; set; }

    /// <summary>Index of the current stage.</summary>
    public int Stage { get; set; }

    public DateTimeOffset StageStartedAt { get; set; }

    public DateTimeOffset? StageSettledAt { get; set; }

    public List<GateOutcome> LastGateResults { get; set; } = [];

    public string? Reason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? CreatedBy { get; set; }
}
