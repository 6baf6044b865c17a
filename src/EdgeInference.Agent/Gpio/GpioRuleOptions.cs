namespace EdgeInference.Agent.Gpio;

/// <summary>When <see cref="Model"/>'s <see cref="Output"/> reaches <see cref="Threshold"/>, <see cref="Pin"/> is set for <see cref="HoldMilliseconds"/>.</summary>
public sealed class GpioRuleOptions
{
    public string Model { get; set; } = "";

    /// <summary>The output to watch; default the model's first. Its largest element is compared.</summary>
    public string? Output { get; set; }

    public double Threshold { get; set; } = 0.5;

    /// <summary>Fire when the value is below the threshold instead of at or above it.</summary>
    public bool Below { get; set; }

    public int Pin { get; set; } = -1;

    /// <summary>How long the pin stays set; another firing meanwhile extends it.</summary>
    public int HoldMilliseconds { get; set; } = 500;

    /// <summary>Drive the pin low when set (an active-low LED or relay).</summary>
    public bool ActiveLow { get; set; }
}
