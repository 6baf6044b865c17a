using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Api;

/// <summary>The body of <c>POST /api/v1/devices/{id}/commands</c>.</summary>
public sealed class CommandRequest
{
    /// <summary><c>reload</c>, <c>rollback</c>, <c>restart</c>, <c>configure</c> or <c>collect_logs</c>.</summary>
    public string Command { get; set; } = "";

    public string? Model { get; set; }

    public string? ToVersion { get; set; }

    public string? Reason { get; set; }

    public DesiredConfiguration? Configuration { get; set; }

    /// <summary>Seconds until the command expires (default one hour).</summary>
    public double? TimeoutSeconds { get; set; }
}
