namespace EdgeInference.Storage;

/// <summary>What a durable log does when it holds its maximum number of records.</summary>
public enum DurableLogPolicy
{
    /// <summary>Delete the oldest records to make room (counted as dropped).</summary>
    DropOldest,

    /// <summary>Refuse new records (counted as dropped).</summary>
    RejectNew,
}
