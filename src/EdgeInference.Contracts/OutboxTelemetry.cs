namespace EdgeInference.Contracts;

/// <summary>Store-and-forward state: what waits to be sent and what was dropped to honour the disk caps.</summary>
public sealed class OutboxTelemetry
{
    /// <summary>Telemetry and drift messages not yet acknowledged by the broker.</summary>
    public long Depth { get; set; }

    /// <summary>Outbox messages dropped so far (cap policy or full queue).</summary>
    public long Dropped { get; set; }

    /// <summary>Prediction records logged but not yet acknowledged by the broker.</summary>
    public long PredictionsBacklog { get; set; }

    /// <summary>Prediction records dropped so far (cap policy or full queue).</summary>
    public long PredictionsDropped { get; set; }
}
