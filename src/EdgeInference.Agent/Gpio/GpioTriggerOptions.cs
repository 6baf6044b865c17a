namespace EdgeInference.Agent.Gpio;

/// <summary>An edge on <see cref="Pin"/> captures the <see cref="Source"/> and runs <see cref="Model"/> on it.</summary>
public sealed class GpioTriggerOptions
{
    public int Pin { get; set; } = -1;

    /// <summary><c>rising</c> (default), <c>falling</c> or <c>both</c>.</summary>
    public string Edge { get; set; } = "rising";

    /// <summary>Use the pin's pull-up resistor (a button to ground), else its pull-down.</summary>
    public bool PullUp { get; set; }

    /// <summary>Edges closer than this to the previous one are ignored (contact bounce).</summary>
    public int DebounceMilliseconds { get; set; } = 50;

    public string Model { get; set; } = "";

    /// <summary>A version to use; default the latest ready one.</summary>
    public string? Version { get; set; }

    /// <summary>
    /// What to capture: <c>sensor:NAME</c> (a window from a configured sensor); a .npy array (single-input models) or a
    /// .json v2 infer request, read at each trigger; or a folder, whose newest such file is used (where a camera or
    /// microphone app drops its captures).
    /// </summary>
    public string Source { get; set; } = "";
}
