namespace EdgeInference.Fleet.Cli;

/// <summary>A request the fleet refused, with its HTTP status and the fleet's own words.</summary>
public sealed class FleetApiException : Exception
{
    public FleetApiException(int status, string message)
        : base(message)
    {
        Status = status;
    }

    public FleetApiException()
        : this(0, "the fleet request failed")
    {
    }

    public FleetApiException(string message)
        : this(0, message)
    {
    }

    public FleetApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Status { get; }

    public int ExitCode => Status switch
    {
        401 or 403 => ExitCodes.Unauthorized,
        404 => ExitCodes.NotFound,
        409 => ExitCodes.Conflict,
        _ => ExitCodes.Failed,
    };
}
