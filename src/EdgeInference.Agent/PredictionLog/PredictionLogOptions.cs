using EdgeInference.Storage;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>The durable prediction log in the data directory.</summary>
public sealed class PredictionLogOptions : DurableLogOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Share of records that keep their input tensors, 0 to 1 (every n-th request, deterministically).</summary>
    public double InputSampleRate { get; set; } = 0.01;

    /// <summary>Whether a request is answered before or after its record is durable (see <see cref="PredictionDurability"/>).</summary>
    public PredictionDurability Durability { get; set; } = PredictionDurability.AfterReply;

    /// <summary>A sampled request whose inputs are larger keeps its prediction but not its inputs (a record must stay well under LiteDB's 16 MB).</summary>
    public int MaxSampledInputBytes { get; set; } = 4 << 20;

    /// <summary>Output values kept per output in a record's summary.</summary>
    public int OutputValues { get; set; } = 16;
}
