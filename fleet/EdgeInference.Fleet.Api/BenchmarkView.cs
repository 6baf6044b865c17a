using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Api;

/// <summary>One device's benchmark of a package: the command's state and, once it succeeded, what the device measured.</summary>
public sealed class BenchmarkView
{
    public string DeviceId { get; set; } = "";

    public string CommandId { get; set; } = "";

    public CommandState State { get; set; }

    public bool Final { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The device's last word: a figure, or why it failed.</summary>
    public string? Message { get; set; }

    public BenchmarkResult? Result { get; set; }
}
