namespace EdgeInference.Contracts;

/// <summary>The agent process over a telemetry window.</summary>
public sealed class ProcessTelemetry
{
    /// <summary>CPU used in the window, in percent of one core.</summary>
    public double CpuPercent { get; set; }

    public long RssBytes { get; set; }

    public long ManagedHeapBytes { get; set; }
}
