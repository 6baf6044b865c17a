using System.Globalization;

namespace EdgeInference.Contracts;

/// <summary>Settings the fleet wants a device to run with; every field is optional and only those given change.</summary>
public sealed class DesiredConfiguration
{
    public double? TelemetryIntervalSeconds { get; set; }

    public double? DriftIntervalSeconds { get; set; }

    /// <summary>Share of requests whose inputs the prediction log keeps (0 to 1).</summary>
    public double? InputSampleRate { get; set; }

    /// <summary>The device's execution-provider preference for models whose own config names none, e.g. <c>["XNNPACK", "CPU"]</c>.</summary>
    public List<string>? ExecutionProviders { get; set; }

    /// <summary>What is out of range, naming the field, or null. (Provider names are checked by the device, which knows its runtime.)</summary>
    public string? Problem()
    {
        if (TelemetryIntervalSeconds is { } telemetry && !(telemetry is >= 0.1 and <= 86_400))
        {
            return string.Create(CultureInfo.InvariantCulture, $"telemetry_interval_seconds must be 0.1 to 86400, not {telemetry}");
        }

        if (DriftIntervalSeconds is { } drift && !(drift is >= 0.1 and <= 86_400))
        {
            return string.Create(CultureInfo.InvariantCulture, $"drift_interval_seconds must be 0.1 to 86400, not {drift}");
        }

        if (InputSampleRate is { } rate && !(rate is >= 0 and <= 1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"input_sample_rate must be 0 to 1, not {rate}");
        }

        if (ExecutionProviders is { } providers && (providers.Count == 0 || providers.Any(string.IsNullOrWhiteSpace)))
        {
            return "execution_providers must name at least one provider, and no empty names (CPU is always the last resort)";
        }

        return null;
    }

    /// <summary>This change laid over <paramref name="current"/>: the fields it sets replace those of <paramref name="current"/>.</summary>
    public DesiredConfiguration Over(DesiredConfiguration? current) => new()
    {
        TelemetryIntervalSeconds = TelemetryIntervalSeconds ?? current?.TelemetryIntervalSeconds,
        DriftIntervalSeconds = DriftIntervalSeconds ?? current?.DriftIntervalSeconds,
        InputSampleRate = InputSampleRate ?? current?.InputSampleRate,
        ExecutionProviders = ExecutionProviders ?? current?.ExecutionProviders,
    };

    /// <summary>Whether <paramref name="reported"/> has every field this one sets, with the same value.</summary>
    public bool IsMetBy(DesiredConfiguration? reported) =>
        (TelemetryIntervalSeconds is null || TelemetryIntervalSeconds == reported?.TelemetryIntervalSeconds)
        && (DriftIntervalSeconds is null || DriftIntervalSeconds == reported?.DriftIntervalSeconds)
        && (InputSampleRate is null || InputSampleRate == reported?.InputSampleRate)
        && (ExecutionProviders is null || (reported?.ExecutionProviders is { } list && list.SequenceEqual(ExecutionProviders, StringComparer.OrdinalIgnoreCase)));
}
