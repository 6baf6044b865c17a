namespace EdgeInference.Agent.PredictionLog;

/// <summary>When a request is answered relative to the commit that makes its prediction record durable.</summary>
public enum PredictionDurability
{
    /// <summary>
    /// The answer goes out first and the record follows in the next group commit: the fastest, and a crash (kill -9,
    /// power loss) can lose the records of up to one <c>CommitInterval</c> of answered requests.
    /// </summary>
    AfterReply,

    /// <summary>
    /// The answer waits until its record is committed (fsynced): no answered prediction is ever missing from the log,
    /// for audit-grade logs such as fraud decisions. Each request pays for a commit, shared with those that arrive
    /// while it runs; a record the log refuses (full under RejectNew) fails its request with 503.
    /// </summary>
    BeforeReply,
}
