namespace EdgeInference.Contracts;

/// <summary>The states a reply reports.</summary>
public static class ReplyStates
{
    public const string Accepted = "accepted";
    public const string Progress = "progress";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    /// <summary>The device refused the command or its package (the reason says why); nothing was changed.</summary>
    public const string Rejected = "rejected";

    /// <summary>The update was installed, then undone by the device itself (the reason says why).</summary>
    public const string RolledBack = "rolled_back";
}
