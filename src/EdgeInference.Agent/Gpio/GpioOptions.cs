namespace EdgeInference.Agent.Gpio;

/// <summary>GPIO (section <c>Gpio</c>): input pins that trigger a capture-and-infer, and output pins driven by model outputs.</summary>
public sealed class GpioOptions
{
    public const string Section = "Gpio";

    /// <summary><c>none</c> (default: no GPIO), <c>libgpiod</c> (devices), <c>sysfs</c> (old kernels) or <c>simulated</c> (tests, machines without GPIO).</summary>
    public string Driver { get; set; } = "none";

    /// <summary>The GPIO chip for libgpiod, e.g. 0 for /dev/gpiochip0.</summary>
    public int Chip { get; set; }

    public List<GpioTriggerOptions> Triggers { get; set; } = [];

    public List<GpioRuleOptions> Rules { get; set; } = [];
}
