using System.Globalization;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>Reads the short forms operators type: stages <c>1,10%,50%,100%</c>, gates <c>error_rate&lt;=0.01</c>, durations <c>30s</c>, <c>5m</c>, <c>1h</c>.</summary>
public static class RolloutParser
{
    /// <summary>A gate still without data fails the stage (<c>on_no_data</c>).</summary>
    public const string NoDataFails = "fail";

    /// <summary>A gate still without data lets the stage pass (<c>on_no_data</c>).</summary>
    public const string NoDataPasses = "pass";

    /// <summary>The longest duration a rollout setting may have: a soak or timeout past a year is a typo.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(366);

    /// <summary>Throws <see cref="FormatException"/> naming the bad stage.</summary>
    public static List<RolloutStage> ParseStages(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stages = new List<RolloutStage>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.EndsWith('%'))
            {
                if (!double.TryParse(part[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent <= 0 || percent > 100)
                {
                    throw new FormatException($"stage '{part}': a percentage must be above 0 and at most 100");
                }

                stages.Add(new RolloutStage { Percent = percent });
            }
            else if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                stages.Add(new RolloutStage { Count = count });
            }
            else
            {
                throw new FormatException($"stage '{part}' is neither a device count (e.g. 1) nor a percentage (e.g. 10%)");
            }
        }

        if (stages.Count == 0)
        {
            throw new FormatException("a rollout needs at least one stage");
        }

        return stages;
    }

    /// <summary>Throws <see cref="FormatException"/> naming the bad gate.</summary>
    public static RolloutGate ParseGate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var op in new[] { "<=", ">=" })
        {
            var at = text.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0)
            {
                continue;
            }

            var metric = text[..at].Trim();
            if (!GateMetrics.All.Contains(metric))
            {
                throw new FormatException($"gate '{text}': '{metric}' is not a gate metric ({string.Join(", ", GateMetrics.All)})");
            }

            if (!double.TryParse(text[(at + 2)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold) || !double.IsFinite(threshold))
            {
                throw new FormatException($"gate '{text}': the threshold is not a number");
            }

            if (metric == GateMetrics.BenchP95Ms && (op != "<=" || threshold <= 0))
            {
                throw new FormatException($"gate '{text}': {GateMetrics.BenchP95Ms} takes the most milliseconds a device's p95 may reach (e.g. {GateMetrics.BenchP95Ms}<=20)");
            }

            return new RolloutGate { Metric = metric, Operator = op, Threshold = threshold };
        }

        throw new FormatException($"gate '{text}' is not METRIC<=VALUE or METRIC>=VALUE (e.g. error_rate<=0.01)");
    }

    /// <summary><c>90</c> (seconds), <c>30s</c>, <c>5m</c>, <c>2h</c>, or <c>hh:mm:ss</c>; throws <see cref="FormatException"/>.</summary>
    public static TimeSpan ParseDuration(string text, string what)
    {
        static FormatException TooLong(string what, string text) => new($"{what} '{text}' is longer than {MaxDuration.TotalDays:0} days");

        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var unit = trimmed.Length > 0 ? trimmed[^1] : ' ';
        var scale = unit switch { 's' => 1.0, 'm' => 60.0, 'h' => 3600.0, _ => 0 };
        var number = scale > 0 ? trimmed[..^1] : trimmed;
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && double.IsFinite(value))
        {
            var seconds = value * (scale > 0 ? scale : 1);
            return seconds <= MaxDuration.TotalSeconds ? TimeSpan.FromSeconds(seconds) : throw TooLong(what, text);
        }

        if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span <= MaxDuration ? span : throw TooLong(what, text);
        }

        throw new FormatException($"{what} '{text}' is not a duration (e.g. 30s, 5m, 1h)");
    }

    /// <summary>Tag selector <c>key=value,key2=value2</c> (all must match; empty selects all); throws <see cref="FormatException"/>.</summary>
    public static Dictionary<string, string> ParseSelector(string? text)
    {
        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"target '{part}' is not key=value");
            }

            selector[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        return selector;
    }

    public static bool Matches(IReadOnlyDictionary<string, string> selector, DeviceRecord device)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(device);
        return selector.All(s => device.Tags.TryGetValue(s.Key, out var value) && value == s.Value);
    }
}
