using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Diagnostics;

internal static partial class AgentLog
{
    [LoggerMessage(100, LogLevel.Error, "Checking the model repository {Root} failed; retrying at the next poll")]
    public static partial void RepositoryPassFailed(ILogger logger, string root, Exception exception);

    [LoggerMessage(101, LogLevel.Information, "Serving {Models} model(s) from {Root}")]
    public static partial void RepositoryReady(ILogger logger, int models, string root);

    [LoggerMessage(102, LogLevel.Error, "The database {Path} cannot be opened ({Error}); it is kept as {Moved} and a new one starts")]
    public static partial void DatabaseMovedAside(ILogger logger, string path, string error, string moved);

    [LoggerMessage(103, LogLevel.Information, "systemd watchdog on: pinging every {Interval}")]
    public static partial void WatchdogEnabled(ILogger logger, TimeSpan interval);

    [LoggerMessage(104, LogLevel.Error, "The {Log} writer failed; records stay queued and are retried")]
    public static partial void DurableLogWriteFailed(ILogger logger, string log, Exception exception);

    [LoggerMessage(105, LogLevel.Warning, "The fleet's settings in {Path} are ignored ({Error}); the agent's own configuration applies until the fleet sends them again")]
    public static partial void SettingsIgnored(ILogger logger, string path, string error);
}
