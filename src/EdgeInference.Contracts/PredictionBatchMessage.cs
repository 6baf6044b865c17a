namespace EdgeInference.Contracts;

/// <summary>
/// <c>edge/{deviceId}/predictions</c>: consecutive records of the prediction log, in order. Delivery is at
/// least once: a consumer de-duplicates by <see cref="PredictionMessage.Id"/> (or by sequence per device).
/// </summary>
public sealed class PredictionBatchMessage
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public DateTimeOffset Timestamp { get; set; }

    public string DeviceId { get; set; } = "";

    public long FirstSequence { get; set; }

    public long LastSequence { get; set; }

    public List<PredictionMessage> Records { get; set; } = [];
}
