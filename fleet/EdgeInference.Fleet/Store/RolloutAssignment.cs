namespace EdgeInference.Fleet.Store;

/// <summary>A device a rollout has given its version to.</summary>
public sealed class RolloutAssignment
{
    public int Stage { get; set; }

    /// <summary>The deploy command that installs the version (its state is the install's).</summary>
    public string CommandId { get; set; } = "";

    /// <summary>The version the device served before, which a rollback returns it to.</summary>
    public string? PreviousVersion { get; set; }

    /// <summary>The rollback command, once the rollout rolled back.</summary>
    public string? RollbackCommandId { get; set; }

    public DateTimeOffset AssignedAt { get; set; }
}
