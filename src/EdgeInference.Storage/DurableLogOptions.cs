namespace EdgeInference.Storage;

/// <summary>Size bound and group commit of a <see cref="DurableLog{TRecord}"/>.</summary>
public class DurableLogOptions
{
    /// <summary>Records kept at most; past it <see cref="Policy"/> decides.</summary>
    public long MaxRecords { get; set; } = 100_000;

    public DurableLogPolicy Policy { get; set; } = DurableLogPolicy.DropOldest;

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
