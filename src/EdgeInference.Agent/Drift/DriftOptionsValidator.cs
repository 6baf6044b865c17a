using EdgeInference.Runtime.Drift;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Drift;

/// <summary>Rejects drift settings that cannot work, naming each.</summary>
public sealed class DriftOptionsValidator : IValidateOptions<DriftOptions>
{
    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Interval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"Drift:Interval (--drift-interval) must be at least 100 ms, not {options.Interval}");
        }

        foreach (var (setting, value) in new[] { ("PsiThreshold", options.PsiThreshold), ("KsThreshold", options.KsThreshold), ("JsThreshold", options.JsThreshold) })
        {
            if (!(value > 0) || double.IsInfinity(value))
            {
                failures.Add($"Drift:{setting} must be a positive number, not {value}");
            }
        }

        if (options.MinSamples < 1)
        {
            failures.Add($"Drift:MinSamples must be at least 1, not {options.MinSamples}");
        }

        if (options.Bins is < 2 or > 100)
        {
            failures.Add($"Drift:Bins must be between 2 and 100, not {options.Bins}");
        }

        if (options.MaxElementFeatures is < 1 or > 1024)
        {
            failures.Add($"Drift:MaxElementFeatures must be between 1 and 1024, not {options.MaxElementFeatures}");
        }

        if (options.ReservoirSize < options.Bins || options.ReservoirSize > 10_000_000)
        {
            failures.Add($"Drift:ReservoirSize must be between Drift:Bins and 10000000, not {options.ReservoirSize}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
