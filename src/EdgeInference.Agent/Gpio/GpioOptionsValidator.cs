using EdgeInference.Agent.Capture;
using EdgeInference.Agent.Sensors;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Gpio;

/// <summary>Rejects GPIO settings that cannot work, naming each.</summary>
public sealed class GpioOptionsValidator : IValidateOptions<GpioOptions>
{
    public static readonly string[] Drivers = ["none", "libgpiod", "sysfs", "simulated"];

    private readonly IOptions<SensorOptions>? _sensors;

    public GpioOptionsValidator(IOptions<SensorOptions>? sensors = null)
    {
        _sensors = sensors;
    }

    public ValidateOptionsResult Validate(string? name, GpioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Drivers.Contains(options.Driver))
        {
            failures.Add($"Gpio:Driver must be one of {string.Join(", ", Drivers)}, not '{options.Driver}'");
        }

        if (options.Driver == "none" && (options.Triggers.Count > 0 || options.Rules.Count > 0))
        {
            failures.Add("Gpio:Triggers and Gpio:Rules need a Gpio:Driver (libgpiod on a device, simulated without GPIO)");
        }

        var sensors = _sensors?.Value.Devices.Select(d => d.Name).ToArray() ?? [];
        var pins = new HashSet<int>();
        for (var i = 0; i < options.Triggers.Count; i++)
        {
            var trigger = options.Triggers[i];
            var at = $"Gpio:Triggers:{i}";
            if (trigger.Pin < 0 || !pins.Add(trigger.Pin))
            {
                failures.Add($"{at}:Pin must be a pin number used once, not {trigger.Pin}");
            }

            if (trigger.Edge is not ("rising" or "falling" or "both"))
            {
                failures.Add($"{at}:Edge must be rising, falling or both, not '{trigger.Edge}'");
            }

            if (string.IsNullOrWhiteSpace(trigger.Model))
            {
                failures.Add($"{at}:Model is required");
            }

            if (CaptureSources.Problem(trigger.Source, sensors) is { } problem)
            {
                failures.Add($"{at}:Source {problem}");
            }

            if (trigger.DebounceMilliseconds is < 0 or > 60_000)
            {
                failures.Add($"{at}:DebounceMilliseconds must be 0 to 60000, not {trigger.DebounceMilliseconds}");
            }
        }

        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            var at = $"Gpio:Rules:{i}";
            if (rule.Pin < 0 || !pins.Add(rule.Pin))
            {
                failures.Add($"{at}:Pin must be a pin number used once, not {rule.Pin}");
            }

            if (string.IsNullOrWhiteSpace(rule.Model))
            {
                failures.Add($"{at}:Model is required");
            }

            if (!double.IsFinite(rule.Threshold))
            {
                failures.Add($"{at}:Threshold must be a finite number");
            }

            if (rule.HoldMilliseconds is < 1 or > 3_600_000)
            {
                failures.Add($"{at}:HoldMilliseconds must be 1 to 3600000, not {rule.HoldMilliseconds}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
