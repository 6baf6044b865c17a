using System.Globalization;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Sensors;

/// <summary>Rejects sensor settings that cannot work, naming each.</summary>
public sealed class SensorOptionsValidator : IValidateOptions<SensorOptions>
{
    public ValidateOptionsResult Validate(string? name, SensorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!double.IsFinite(options.PollSeconds) || options.PollSeconds is < 0.1 or > 3600)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Sensors:PollSeconds must be 0.1 to 3600, not {options.PollSeconds}"));
        }

        if (options.Bus is not ("linux" or "emulated"))
        {
            failures.Add($"Sensors:Bus must be linux or emulated, not '{options.Bus}'");
        }

        if (!SensorSupport.IsSupported && options.Devices.Count > 0)
        {
            failures.Add($"Sensors:Devices: {SensorChips.WithoutSensors}");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Devices.Count; i++)
        {
            Validate(options.Devices[i], $"Sensors:Devices:{i}", names, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Validate(SensorDeviceOptions device, string at, HashSet<string> names, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(device.Name) || !device.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') || !names.Add(device.Name))
        {
            failures.Add($"{at}:Name must be a unique name of letters, digits, '_' and '-', not '{device.Name}'");
        }

        if (!SensorChips.Names.Contains(device.Chip))
        {
            failures.Add($"{at}:Chip must be one of {string.Join(", ", SensorChips.Names)}, not '{device.Chip}'");
            return;
        }

        if (device.Bus is < 0 or > 255)
        {
            failures.Add($"{at}:Bus must be 0 to 255, not {device.Bus}");
        }

        if (SensorChips.IsSpi(device.Chip))
        {
            if (device.Address is not null)
            {
                failures.Add($"{at}:Address does not apply: the {device.Chip} is on SPI; set ChipSelect");
            }

            if (device.ChipSelect is < 0 or > 255)
            {
                failures.Add($"{at}:ChipSelect must be 0 to 255, not {device.ChipSelect}");
            }
        }
        else if (device.Address is { } address && address is < 0x03 or > 0x77)
        {
            failures.Add($"{at}:Address must be a 7-bit I2C address, 3 to 119 (0x03 to 0x77), not {address}");
        }

        if (device.Samples is < 1 or > 100_000)
        {
            failures.Add($"{at}:Samples must be 1 to 100000, not {device.Samples}");
        }

        var maxRate = SensorChips.MaxRateHz(device.Chip);
        if (device.RateHz is { } rate && (!double.IsFinite(rate) || rate <= 0 || rate > maxRate))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{at}:RateHz must be above 0 and at most {maxRate} for the {device.Chip}, not {device.RateHz}"));
        }

        var ranges = SensorChips.Ranges(device.Chip);
        if (device.Range is not null && !ranges.Contains(device.Range))
        {
            failures.Add(ranges.Length == 0
                ? $"{at}:Range does not apply to the {device.Chip}"
                : $"{at}:Range must be one of {string.Join(", ", ranges)} for the {device.Chip}, not '{device.Range}'");
        }

        if (device.Channels.Count > 0 && device.Chip != SensorChips.Ads1115)
        {
            failures.Add($"{at}:Channels applies only to the ads1115");
        }

        foreach (var channel in device.Channels.Where(c => !SensorChips.AdcInputs.Contains(c)))
        {
            failures.Add($"{at}:Channels: '{channel}' is not one of {string.Join(", ", SensorChips.AdcInputs)}");
        }
    }
}
