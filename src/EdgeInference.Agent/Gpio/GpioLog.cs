using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Gpio;

internal static partial class GpioLog
{
    [LoggerMessage(400, LogLevel.Information, "GPIO on the {Driver} driver: {Triggers} trigger pins, {Rules} output rules")]
    public static partial void Opened(ILogger logger, string driver, int triggers, int rules);

    [LoggerMessage(401, LogLevel.Warning, "The capture-and-infer triggered on pin {Pin} failed: {Error}")]
    public static partial void TriggerFailed(ILogger logger, int pin, string error);

    [LoggerMessage(402, LogLevel.Error, "The capture-and-infer triggered on pin {Pin} failed")]
    public static partial void TriggerCrashed(ILogger logger, int pin, Exception exception);

    [LoggerMessage(403, LogLevel.Information, "Model {Model} output {Output} = {Value} crossed {Threshold}: pin {Pin} set for {Milliseconds} ms")]
    public static partial void RuleFired(ILogger logger, string model, string output, double value, double threshold, int pin, int milliseconds);
}
