namespace EdgeInference.Fleet.Api;

/// <summary><c>GET /api/v1/health</c>: whether the fleet is up, its broker link, and this replica's role.</summary>
public sealed class HealthView
{
    public string Status { get; set; } = "";

    /// <summary><c>connected</c> or <c>disconnected</c>.</summary>
    public string Mqtt { get; set; } = "";

    /// <summary><c>leader</c> (it runs the rollout planner) or <c>standby</c>.</summary>
    public string Role { get; set; } = "";
}
