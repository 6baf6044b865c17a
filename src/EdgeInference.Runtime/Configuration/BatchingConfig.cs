namespace EdgeInference.Runtime.Configuration;

/// <summary>Dynamic micro-batching, for models whose inputs and outputs all have a dynamic first dimension.</summary>
public sealed class BatchingConfig
{
    /// <summary>Rows per batch at most (TF Serving's max_batch_size). 1 or less turns batching off.</summary>
    public int MaxBatchSize { get; set; } = 8;

    /// <summary>How long a partial batch waits for more requests, in microseconds (TF Serving's batch_timeout_micros).</summary>
    public int MaxQueueDelayMicroseconds { get; set; } = 500;

    /// <summary>Requests that may wait for a batch at most (Triton's max_queue_size); one more is refused as unavailable.</summary>
    public int MaxQueueSize { get; set; } = 1024;
}
