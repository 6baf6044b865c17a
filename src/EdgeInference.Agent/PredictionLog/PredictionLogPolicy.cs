namespace EdgeInference.Agent.PredictionLog;

/// <summary>What the log does when it holds <see cref="PredictionLogOptions.MaxRecords"/>.</summary>
public enum PredictionLogPolicy
{
    /// <summary>Delete the oldest records to make room (counted as dropped).</summary>
    DropOldest,

    /// <summary>Refuse new records (counted as dropped).</summary>
    RejectNew,
}
