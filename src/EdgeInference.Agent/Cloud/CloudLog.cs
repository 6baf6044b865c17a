using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Cloud;

internal static partial class CloudLog
{
    [LoggerMessage(200, LogLevel.Information, "Connected to {Broker} as device {DeviceId}")]
    public static partial void Connected(ILogger logger, string broker, string deviceId);

    [LoggerMessage(201, LogLevel.Warning, "No connection to {Broker}; retrying in {Seconds:0.0} s: {Error}")]
    public static partial void ConnectionFailed(ILogger logger, string broker, double seconds, string error);

    [LoggerMessage(202, LogLevel.Warning, "Disconnected from the broker ({Reason}) {Error}")]
    public static partial void Disconnected(ILogger logger, string reason, string error);

    [LoggerMessage(203, LogLevel.Warning, "Could not say offline before stopping (the last will says it): {Error}")]
    public static partial void OfflineNotSaid(ILogger logger, string error);

    [LoggerMessage(204, LogLevel.Error, "The command on {Topic} failed")]
    public static partial void CommandFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(205, LogLevel.Warning, "Forwarding paused, waiting for the broker: {Error}")]
    public static partial void ForwardingPaused(ILogger logger, string error);

    [LoggerMessage(206, LogLevel.Error, "Collecting telemetry failed; the next window includes this one")]
    public static partial void TelemetryFailed(ILogger logger, Exception exception);
}
