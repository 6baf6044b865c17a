namespace EdgeInference.Fleet.Store;

/// <summary>The states of a rollout.</summary>
public static class RolloutStates
{
    public const string Running = "running";
    public const string WaitingApproval = "waiting_approval";
    public const string Paused = "paused";
    public const string RollingBack = "rolling_back";
    public const string RolledBack = "rolled_back";
    public const string Completed = "completed";
    public const string Aborted = "aborted";

    /// <summary>States in which the engine still acts on the rollout (a completed one keeps serving devices that join).</summary>
    public static bool IsActive(string state) => state is Running or WaitingApproval or Paused or RollingBack or Completed;
}
