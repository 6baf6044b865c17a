using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Drift;

internal static partial class DriftLog
{
    [LoggerMessage(300, LogLevel.Warning, "Drift in model {Model} version {Version}: {Features}")]
    public static partial void DriftDetected(ILogger logger, string model, string version, string features);

    [LoggerMessage(301, LogLevel.Warning, "The drift profile of model {Model} version {Version} is not used; drift is measured against the first window instead: {Problem}")]
    public static partial void ProfileUnusable(ILogger logger, string model, string version, string problem);

    [LoggerMessage(302, LogLevel.Error, "Closing the drift windows failed; they continue into the next window")]
    public static partial void WindowFailed(ILogger logger, Exception exception);
}
