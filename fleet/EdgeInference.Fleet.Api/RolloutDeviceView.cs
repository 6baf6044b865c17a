using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Api;

/// <summary>One device a rollout took, with the state computed from its commands and its registry entry.</summary>
public sealed class RolloutDeviceView
{
    public string DeviceId { get; set; } = "";

    public int Stage { get; set; }

    public InstallState State { get; set; } = InstallState.Pending;

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public bool Online { get; set; }

    public string? ServingVersion { get; set; }

    public string? PreviousVersion { get; set; }

    public int? GoldenPassed { get; set; }

    public int? GoldenTotal { get; set; }

    public double? ShadowAgreement { get; set; }

    /// <summary>Live requests the device's new version replayed in shadow mode.</summary>
    public int? ShadowRequests { get; set; }

    /// <summary>The p95 of the on-device benchmark the rollout ran before the deploy, in milliseconds (<c>bench_p95_ms</c> gates).</summary>
    public double? BenchmarkP95Ms { get; set; }
}
