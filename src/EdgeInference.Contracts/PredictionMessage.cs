namespace EdgeInference.Contracts;

/// <summary>One logged prediction.</summary>
public sealed class PredictionMessage
{
    /// <summary><c>{deviceId}:{sequence}</c>: stable across resends, unique in the fleet.</summary>
    public string Id { get; set; } = "";

    public long Sequence { get; set; }

    public string? RequestId { get; set; }

    public string Model { get; set; } = "";

    public long Version { get; set; }

    public DateTimeOffset Timestamp { get; set; }

    public long LatencyUs { get; set; }

    public string Protocol { get; set; } = "";

    public List<OutputSummaryMessage> Outputs { get; set; } = [];

    /// <summary>The inputs, for the sampled share of records.</summary>
    public List<InputSampleMessage>? Inputs { get; set; }
}
