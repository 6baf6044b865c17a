namespace EdgeInference.Agent.Capture;

/// <summary>Every <see cref="IntervalMilliseconds"/> captures the <see cref="Source"/> and runs <see cref="Model"/> on it.</summary>
public sealed class IntervalTriggerOptions
{
    public int IntervalMilliseconds { get; set; }

    public string Model { get; set; } = "";

    /// <summary>A version to use; default the latest ready one.</summary>
    public string? Version { get; set; }

    /// <summary><c>sensor:NAME</c> (a window from a configured sensor), a .npy or .json file, or a folder whose newest such file is used.</summary>
    public string Source { get; set; } = "";
}
