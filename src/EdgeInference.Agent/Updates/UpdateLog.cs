using EdgeInference.Contracts;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Updates;

internal static partial class UpdateLog
{
    [LoggerMessage(500, LogLevel.Information, "Command {Command} {CommandId} received")]
    public static partial void CommandReceived(ILogger logger, string command, string commandId);

    [LoggerMessage(501, LogLevel.Warning, "A malformed command on commands/{Topic} was dropped: {Problem}")]
    public static partial void CommandMalformed(ILogger logger, string topic, string problem);

    [LoggerMessage(502, LogLevel.Warning, "Command {Command} {CommandId} rejected ({Reason}): {Problem}")]
    public static partial void CommandRejected(ILogger logger, string command, string commandId, string reason, string problem);

    [LoggerMessage(503, LogLevel.Information, "Update {CommandId}: {Model} {Version} {Step}")]
    public static partial void Step(ILogger logger, string commandId, string model, string version, UpdateStep step);

    [LoggerMessage(504, LogLevel.Warning, "Update {CommandId}: {Model} {Version} refused ({Reason}): {Problem}")]
    public static partial void Refused(ILogger logger, string commandId, string model, string version, string reason, string problem);

    [LoggerMessage(505, LogLevel.Error, "Update {CommandId}: {Model} {Version} failed ({Reason}): {Problem}")]
    public static partial void Failed(ILogger logger, string commandId, string model, string version, string reason, string problem);

    [LoggerMessage(506, LogLevel.Warning, "{Model}: rolled back from {From} to {To} ({Reason})")]
    public static partial void RolledBack(ILogger logger, string model, string from, string to, string reason);

    [LoggerMessage(507, LogLevel.Information, "Update {CommandId}: {Model} {Version} confirmed after probation")]
    public static partial void Confirmed(ILogger logger, string commandId, string model, string version);

    [LoggerMessage(508, LogLevel.Warning, "Update records that cannot be read are ignored: {Problems}")]
    public static partial void RecordsUnreadable(ILogger logger, string problems);

    [LoggerMessage(509, LogLevel.Warning, "Restarting on command {CommandId}")]
    public static partial void Restarting(ILogger logger, string commandId);

    [LoggerMessage(510, LogLevel.Error, "Command {CommandId} failed unexpectedly")]
    public static partial void CommandCrashed(ILogger logger, string commandId, Exception exception);

    [LoggerMessage(511, LogLevel.Information, "Update {CommandId}: {Model} {Version} resumes after a restart ({Phase}, start {Starts} since the switch)")]
    public static partial void Resuming(ILogger logger, string commandId, string model, string version, UpdatePhase phase, int starts);

    [LoggerMessage(512, LogLevel.Warning, "Update holding at '{Point}' (Updates:HoldAt, for crash tests)")]
    public static partial void Holding(ILogger logger, string point);

    [LoggerMessage(514, LogLevel.Information, "Configured on command {CommandId}: now {Configuration}")]
    public static partial void Configured(ILogger logger, string commandId, string configuration);

    [LoggerMessage(513, LogLevel.Information, "Update {CommandId}: {Model} {Version} shadowed {Compared} live requests, agreement {Agreement:P1} ({Skipped} skipped); first difference: {Difference}")]
    public static partial void Shadowed(ILogger logger, string commandId, string model, string version, int compared, double agreement, long skipped, string difference);

    [LoggerMessage(520, LogLevel.Information, "Command {CommandId}: trust version {Version} held (newly taken: {Taken})")]
    public static partial void TrustTaken(ILogger logger, string commandId, long version, bool taken);

    [LoggerMessage(521, LogLevel.Warning, "Command {CommandId}: the trust document it carries was refused ({Reason}): {Message}")]
    public static partial void TrustRefused(ILogger logger, string commandId, string reason, string message);

    [LoggerMessage(530, LogLevel.Information, "Local package {Id} from {Folder} queued as command {CommandId}")]
    public static partial void LocalPackageQueued(ILogger logger, string id, string folder, string commandId);

    [LoggerMessage(531, LogLevel.Warning, "Local package {Id} refused before its checks: {Message}")]
    public static partial void LocalPackageUnreadable(ILogger logger, string id, string message);
}
