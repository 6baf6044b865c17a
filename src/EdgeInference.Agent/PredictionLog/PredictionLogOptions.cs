namespace EdgeInference.Agent.PredictionLog;

/// <summary>The durable prediction log in the data directory.</summary>
public sealed class PredictionLogOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Records kept at most; past it <see cref="Policy"/> decides.</summary>
    public long MaxRecords { get; set; } = 100_000;

    public PredictionLogPolicy Policy { get; set; } = PredictionLogPolicy.DropOldest;

    /// <summary>Share of records that keep their input tensors, 0 to 1 (every n-th request, deterministically).</summary>
    public double InputSampleRate { get; set; } = 0.01;

    /// <summary>Output values kept per output in a record's summary.</summary>
    public int OutputValues { get; set; } = 16;

    /// <summary>
    /// How long the writer gathers records before a commit (group commit): each commit costs a few fsyncs,
    /// so this bounds them to a few per second under any load. Records are acknowledged at their commit.
    /// </summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Records per commit at most.</summary>
    public int BatchSize { get; set; } = 4096;

    /// <summary>Records waiting to be written at most; past it new records are dropped and counted.</summary>
    public int QueueCapacity { get; set; } = 20_000;
}
