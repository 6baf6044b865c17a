using EdgeInference.Storage;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>The durable prediction log in the data directory.</summary>
public sealed class PredictionLogOptions : DurableLogOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Share of records that keep their input tensors, 0 to 1 (every n-th request, deterministically).</summary>
    public double InputSampleRate { get; set; } = 0.01;

    /// <summary>Output values kept per output in a record's summary.</summary>
    public int OutputValues { get; set; } = 16;
}
