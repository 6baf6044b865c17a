namespace EdgeInference.Contracts;

/// <summary><c>edge/{deviceId}/replies/{commandId}</c>: one step of a command's progress, or its outcome (<see cref="Final"/>).</summary>
public sealed class ReplyMessage
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public DateTimeOffset Timestamp { get; set; }

    public string DeviceId { get; set; } = "";

    public string CommandId { get; set; } = "";

    public string Command { get; set; } = "";

    public ReplyState State { get; set; }

    /// <summary>For a deploy, the step this reply is about.</summary>
    public UpdateStep? Step { get; set; }

    /// <summary>Why it failed or was rejected, machine-readable (e.g. <c>bad_signature</c>, <c>golden_failed</c>, <c>crash_loop</c>).</summary>
    public string? Reason { get; set; }

    public string? Message { get; set; }

    public string? Model { get; set; }

    /// <summary>The package version the command is about.</summary>
    public string? Version { get; set; }

    /// <summary>The package version the device serves after this step.</summary>
    public string? ServingVersion { get; set; }

    public int? GoldenPassed { get; set; }

    public int? GoldenTotal { get; set; }

    public int? ShadowRequests { get; set; }

    /// <summary>Share of shadowed requests where the new version agreed with the serving one.</summary>
    public double? ShadowAgreement { get; set; }

    /// <summary>The last reply of the command.</summary>
    public bool Final { get; set; }

    /// <summary>For <c>collect_logs</c>: the recent log lines.</summary>
    public List<string>? Lines { get; set; }

    /// <summary>For <c>benchmark</c>: what the device measured.</summary>
    public BenchmarkResult? Benchmark { get; set; }

    /// <summary>For <c>configure</c>: the settings the device now runs with (all the fleet has set).</summary>
    public DesiredConfiguration? Configuration { get; set; }
}
