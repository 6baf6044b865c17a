using EdgeInference.Agent.Sensors;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Capture;

/// <summary>Rejects interval triggers that cannot work, naming each.</summary>
public sealed class CaptureOptionsValidator : IValidateOptions<CaptureOptions>
{
    private readonly IOptions<SensorOptions> _sensors;

    public CaptureOptionsValidator(IOptions<SensorOptions> sensors)
    {
        _sensors = sensors;
    }

    public ValidateOptionsResult Validate(string? name, CaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sensors = _sensors.Value.Devices.Select(d => d.Name).ToArray();
        var failures = new List<string>();
        for (var i = 0; i < options.Intervals.Count; i++)
        {
            var trigger = options.Intervals[i];
            var at = $"Capture:Intervals:{i}";
            if (trigger.IntervalMilliseconds is < 10 or > 86_400_000)
            {
                failures.Add($"{at}:IntervalMilliseconds must be 10 to 86400000, not {trigger.IntervalMilliseconds}");
            }

            if (string.IsNullOrWhiteSpace(trigger.Model))
            {
                failures.Add($"{at}:Model is required");
            }

            if (CaptureSources.Problem(trigger.Source, sensors) is { } problem)
            {
                failures.Add($"{at}:Source {problem}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
