using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Capture;

internal static partial class CaptureLog
{
    [LoggerMessage(430, LogLevel.Information, "Interval triggers: {Count}")]
    public static partial void Scheduled(ILogger logger, int count);

    [LoggerMessage(431, LogLevel.Warning, "The capture-and-infer of interval trigger {Index} ({Source} into {Model}) failed: {Error}")]
    public static partial void Failed(ILogger logger, int index, string source, string model, string error);

    [LoggerMessage(432, LogLevel.Error, "The capture-and-infer of interval trigger {Index} failed")]
    public static partial void Crashed(ILogger logger, int index, Exception exception);
}
