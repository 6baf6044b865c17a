namespace EdgeInference.Fleet.Cli;

/// <summary>The fleet service could not be reached at all.</summary>
public sealed class FleetUnreachableException : Exception
{
    public FleetUnreachableException()
    {
    }

    public FleetUnreachableException(string message)
        : base(message)
    {
    }

    public FleetUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
