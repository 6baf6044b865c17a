namespace EdgeInference.Contracts;

/// <summary>The latest update of one model, as the status message shows it.</summary>
public sealed class UpdateStatus
{
    public string Model { get; set; } = "";

    public string CommandId { get; set; } = "";

    public string Version { get; set; } = "";

    public ReplyState State { get; set; }

    public UpdateStep? Step { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
