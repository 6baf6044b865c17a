namespace EdgeInference.Agent.Updates;

/// <summary>An update step that failed: <see cref="Reason"/> is machine-readable (e.g. <c>download_failed</c>, <c>golden_failed</c>).</summary>
public sealed class UpdateFailedException : Exception
{
    public UpdateFailedException(string reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public UpdateFailedException()
        : this("failed", "the update failed")
    {
    }

    public UpdateFailedException(string message)
        : this("failed", message)
    {
    }

    public UpdateFailedException(string message, Exception innerException)
        : this("failed", message, innerException)
    {
    }

    public string Reason { get; }
}
