using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Sensors;

internal static partial class SensorLog
{
    [LoggerMessage(420, LogLevel.Information, "Sensors: {Count} configured ({Names}), polled every {Seconds} s")]
    public static partial void Configured(ILogger logger, int count, string names, double seconds);

    [LoggerMessage(421, LogLevel.Warning, "Sensor {Name} ({Chip} on {Where}) does not answer: {Error}")]
    public static partial void NotAnswering(ILogger logger, string name, string chip, string where, string error);

    [LoggerMessage(422, LogLevel.Information, "Sensor {Name} ({Chip} on {Where}) answers")]
    public static partial void Answering(ILogger logger, string name, string chip, string where);

    [LoggerMessage(423, LogLevel.Error, "Polling the sensors failed")]
    public static partial void PollCrashed(ILogger logger, Exception exception);
}
