namespace EdgeInference.Fleet.Cli;

/// <summary>What <c>edgefleet</c> exits with, so scripts can tell failures apart.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The fleet answered with an error not listed below (4xx/5xx).</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments, or a file that cannot be read (a model that is neither ONNX nor TFLite, or is damaged).</summary>
    public const int Usage = 2;

    /// <summary>The token is missing, unknown or not allowed to do this (401/403).</summary>
    public const int Unauthorized = 3;

    /// <summary>No such device, package or rollout (404).</summary>
    public const int NotFound = 4;

    /// <summary>The request conflicts with the fleet's state, e.g. a package version that exists (409).</summary>
    public const int Conflict = 5;

    /// <summary>The fleet service cannot be reached.</summary>
    public const int Unreachable = 6;

    /// <summary><c>models verify</c>: the candidate fails one of the gates (the report gives the numbers).</summary>
    public const int GateFailed = 7;

    /// <summary><c>rollouts status --watch</c>: the rollout ended paused, aborted or rolled back.</summary>
    public const int RolloutStopped = 10;
}
