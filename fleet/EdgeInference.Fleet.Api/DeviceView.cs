using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Api;

/// <summary>A device as <c>GET /api/v1/devices</c> shows it: enrollment, status, settings and serving figures.</summary>
public sealed class DeviceView
{
    public string Id { get; set; } = "";

    /// <summary>Whether the device was enrolled here (it has credentials) rather than only seen on an external broker.</summary>
    public bool Enrolled { get; set; }

    /// <summary>The version of the signed trust document the device last reported holding (0: none).</summary>
    public long TrustVersion { get; set; }

    public DateTimeOffset? EnrolledAt { get; set; }

    /// <summary>When an operator revoked the device (null: not revoked).</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    public bool Online { get; set; }

    public DateTimeOffset? LastSeen { get; set; }

    public string? AgentVersion { get; set; }

    public List<ModelStatus> Models { get; set; } = [];

    public List<UpdateStatus> Updates { get; set; } = [];

    /// <summary>The settings operators want the device to run with.</summary>
    public DesiredConfiguration? DesiredConfiguration { get; set; }

    /// <summary>The settings the device says it runs with.</summary>
    public DesiredConfiguration? ReportedConfiguration { get; set; }

    /// <summary>Whether the device has yet to acknowledge part of <see cref="DesiredConfiguration"/>.</summary>
    public bool ConfigurationPending { get; set; }

    public TelemetryMessage? LatestTelemetry { get; set; }

    /// <summary>Serving figures per <c>model@package-version</c>, summed over every telemetry window.</summary>
    public Dictionary<string, VersionFigures> Stats { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The latest drift window per <c>model@package-version</c>.</summary>
    public Dictionary<string, DriftWindow> Drift { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The package version the device serves for <paramref name="model"/> (its highest ready version), if known.</summary>
    public string? ServingVersion(string model) =>
        Models.Where(m => m.Model == model && m.State == "READY").OrderByDescending(m => m.Version).FirstOrDefault()?.PackageVersion;
}
