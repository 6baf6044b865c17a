using EdgeInference.Contracts;
namespace EdgeInference.Fleet.Store;

/// <summary>
/// A staged rollout of one package version. Everything the engine decides is computed from this record, its
/// per-device rows (<see cref="RolloutAssignment"/>), the device registry and the command records, so a restarted fleet service carries on where it was.
/// </summary>
public sealed class RolloutRecord
{
    public string Id { get; set; } = "";

    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>Tag selector: <c>key=value</c> pairs separated by commas (all must match); empty selects every device.</summary>
    public string Target { get; set; } = "";

    public List<RolloutStage> Stages { get; set; } = [];

    public TimeSpan Soak { get; set; } = TimeSpan.FromMinutes(5);

    public List<RolloutGate> Gates { get; set; } = [];

    /// <summary>Shadow mode before each device switches; null: none.</summary>
    public RolloutShadow? Shadow { get; set; }

    /// <summary><c>pause</c> or <c>rollback</c>: what a failing gate does.</summary>
    public string OnFailure { get; set; } = "pause";

    /// <summary>Whether a passing stage waits for <c>promote</c> instead of advancing by itself.</summary>
    public bool RequireApproval { get; set; }

    /// <summary>How long past the soak a gate without data is waited for before <see cref="OnNoData"/> decides.</summary>
    public TimeSpan NoDataTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary><c>fail</c> (the default) or <c>pass</c>: what a gate still without data after <see cref="NoDataTimeout"/> does.</summary>
    public string OnNoData { get; set; } = "fail";

    /// <summary>
    /// The most deploys sent in any minute (as AWS IoT Jobs' <c>maximumPerMinute</c>), spread as at most a sixtieth of it
    /// (rounded up) per second; null: no cap. Devices that already serve the version are not deploys.
    /// </summary>
    public int? MaxPerMinute { get; set; }

    /// <summary>How long an assigned device may stay offline before it counts as pending rather than holding up the stage.</summary>
    public TimeSpan OfflineTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>See <see cref="RolloutStates"/>.</summary>
    public RolloutState State { get; set; } = RolloutState.Running;

    /// <summary>Index of the current stage.</summary>
    public int Stage { get; set; }

    public DateTimeOffset StageStartedAt { get; set; }

    /// <summary>When every device of the current stage had finished installing (or timed out): the soak runs from here.</summary>
    public DateTimeOffset? StageSettledAt { get; set; }

    public List<GateResult> LastGateResults { get; set; } = [];

    public string? Reason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? CreatedBy { get; set; }
}
