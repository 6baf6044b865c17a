namespace EdgeInference.Contracts;

/// <summary>The latest update of one model, as the status message shows it.</summary>
public sealed class UpdateStatus
{
    public string Model { get; set; } = "";

    public string CommandId { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>See <see cref="ReplyStates"/>.</summary>
    public string State { get; set; } = "";

    public string? Step { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
