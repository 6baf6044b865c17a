using EdgeInference.Agent.Sensors;

namespace EdgeInference.Agent.Capture;

/// <summary>What a trigger's <c>Source</c> names: <c>sensor:NAME</c> (a configured sensor), else a file or folder.</summary>
public static class CaptureSources
{
    public const string SensorPrefix = "sensor:";

    /// <summary>Why <paramref name="source"/> cannot be captured from, or null when it can.</summary>
    public static string? Problem(string source, IReadOnlyCollection<string> sensors)
    {
        ArgumentNullException.ThrowIfNull(sensors);
        if (source.StartsWith(SensorPrefix, StringComparison.Ordinal))
        {
            var name = source[SensorPrefix.Length..];
            return sensors.Contains(name) ? null : $"names sensor '{name}', which is not in Sensors:Devices";
        }

        return !string.IsNullOrWhiteSpace(source) && (File.Exists(source) || Directory.Exists(source)) ? null : $"'{source}' is not an existing file or folder, nor sensor:NAME";
    }

    /// <summary>The capture source <paramref name="source"/> names (checked by <see cref="Problem"/> at start).</summary>
    public static ICaptureSource Create(string source, SensorHub? sensors)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.StartsWith(SensorPrefix, StringComparison.Ordinal))
        {
            return new SensorCaptureSource(sensors ?? throw new InvalidOperationException($"'{source}' names a sensor, and no sensor is configured"), source[SensorPrefix.Length..]);
        }

        return new FileCaptureSource(source);
    }
}
