namespace EdgeInference.Fleet.Rollouts;

/// <summary>A rollout request or action that cannot be done, with the HTTP status that says why.</summary>
public sealed class RolloutException : Exception
{
    public RolloutException(int status, string message)
        : base(message)
    {
        Status = status;
    }

    public RolloutException()
        : this(400, "the rollout request cannot be done")
    {
    }

    public RolloutException(string message)
        : this(400, message)
    {
    }

    public RolloutException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
    }

    public int Status { get; }
}
