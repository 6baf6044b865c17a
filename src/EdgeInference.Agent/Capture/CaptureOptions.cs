namespace EdgeInference.Agent.Capture;

/// <summary>Scheduled captures (section <c>Capture</c>): interval triggers, each a capture-and-infer every so often.</summary>
public sealed class CaptureOptions
{
    public const string Section = "Capture";

    public List<IntervalTriggerOptions> Intervals { get; set; } = [];
}
