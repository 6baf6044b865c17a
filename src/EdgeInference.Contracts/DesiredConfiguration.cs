namespace EdgeInference.Contracts;

/// <summary>Settings the fleet wants a device to run with; every field is optional and only those given change.</summary>
public sealed class DesiredConfiguration
{
    public double? TelemetryIntervalSeconds { get; set; }

    public double? DriftIntervalSeconds { get; set; }

    /// <summary>Share of requests whose inputs the prediction log keeps (0 to 1).</summary>
    public double? InputSampleRate { get; set; }
}
