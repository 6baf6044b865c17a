using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Hosting;

internal static partial class FleetLog
{
    [LoggerMessage(1000, LogLevel.Information, "Embedded MQTT broker listening on {Address}: port {Port} (plain TCP, 0: off) and {TlsPort} (TLS, 0: off)")]
    public static partial void BrokerStarted(ILogger logger, string address, int port, int tlsPort);

    [LoggerMessage(1001, LogLevel.Warning, "MQTT connection refused: client {ClientId}, user '{User}' (bad credentials)")]
    public static partial void BrokerRefused(ILogger logger, string clientId, string user);

    [LoggerMessage(1012, LogLevel.Warning, "MQTT connection refused: client id {ClientId} is not {Identity}'s to use (reserved, or held by another identity)")]
    public static partial void ClientIdRefused(ILogger logger, string clientId, string identity);

    [LoggerMessage(1002, LogLevel.Warning, "MQTT publish denied: client {ClientId} may not publish to {Topic}")]
    public static partial void PublishDenied(ILogger logger, string clientId, string topic);

    [LoggerMessage(1003, LogLevel.Warning, "MQTT subscription denied: client {ClientId} may not subscribe to {Filter}")]
    public static partial void SubscribeDenied(ILogger logger, string clientId, string filter);

    [LoggerMessage(1004, LogLevel.Warning, "A message on {Topic} was dropped: {Problem}")]
    public static partial void MessageDropped(ILogger logger, string topic, string problem);

    [LoggerMessage(1005, LogLevel.Information, "Connected to the broker {Broker}")]
    public static partial void ClientConnected(ILogger logger, string broker);

    [LoggerMessage(1006, LogLevel.Warning, "No connection to the broker {Broker}; retrying in {Seconds:0.0} s: {Error}")]
    public static partial void ClientConnectFailed(ILogger logger, string broker, double seconds, string error);

    [LoggerMessage(1007, LogLevel.Information, "Rollout {RolloutId}: {Kind} at stage {Stage}: {Message}")]
    public static partial void RolloutEvent(ILogger logger, string rolloutId, string kind, int stage, string message);

    [LoggerMessage(1008, LogLevel.Error, "The rollout engine's pass over {RolloutId} failed")]
    public static partial void RolloutPassFailed(ILogger logger, string rolloutId, Exception exception);

    [LoggerMessage(1009, LogLevel.Warning, "Operator token generated: {Path} (use it as EDGEFLEET_TOKEN)")]
    public static partial void OperatorTokenWritten(ILogger logger, string path);

    [LoggerMessage(1010, LogLevel.Warning, "Command {CommandId} to {DeviceId} could not be sent: {Error}")]
    public static partial void CommandNotSent(ILogger logger, string commandId, string deviceId, string error);

    [LoggerMessage(1011, LogLevel.Information, "Command {Command} {CommandId} sent to {DeviceId} (send {Sends})")]
    public static partial void CommandSent(ILogger logger, string command, string commandId, string deviceId, int sends);

    [LoggerMessage(1013, LogLevel.Information, "This replica leads: it runs the rollout planner")]
    public static partial void Leading(ILogger logger);

    [LoggerMessage(1014, LogLevel.Warning, "This replica lost its leadership (its database connection is gone)")]
    public static partial void LeadershipLost(ILogger logger);

    [LoggerMessage(1015, LogLevel.Information, "Administering the broker through {Admin} at {Url}")]
    public static partial void BrokerAdminConnected(ILogger logger, string admin, string url);

    [LoggerMessage(1016, LogLevel.Warning, "The external broker {Url} is not administered by the fleet (--broker-admin none): it must authenticate devices and enforce their ACL itself, and a revoked device stays connected there")]
    public static partial void BrokerUnmanaged(ILogger logger, string url);

    [LoggerMessage(1017, LogLevel.Warning, "Device {DeviceId} revoked by {By}")]
    public static partial void DeviceRevoked(ILogger logger, string deviceId, string by);

    [LoggerMessage(1018, LogLevel.Information, "The broker account '{User}' was given the role {Role}, to publish commands and read what devices send")]
    public static partial void BrokerAdminGranted(ILogger logger, string user, string role);

    [LoggerMessage(1019, LogLevel.Warning, "{Count} change notice(s) could not go to the other replicas: {Reason}")]
    public static partial void ChangeBusSendFailed(ILogger logger, int count, string reason);

    [LoggerMessage(1020, LogLevel.Warning, "Not listening for the other replicas' changes; again in {Seconds:0.#} s: {Reason}")]
    public static partial void ChangeBusListenFailed(ILogger logger, double seconds, string reason);

    [LoggerMessage(1021, LogLevel.Information, "Telemetry history partition {Partition} dropped (Fleet:HistoryRetention {Days:0.#} days)")]
    public static partial void HistoryDropped(ILogger logger, string partition, double days);

    [LoggerMessage(1022, LogLevel.Warning, "Telemetry history maintenance failed; again within the hour: {Reason}")]
    public static partial void HistoryMaintenanceFailed(ILogger logger, string reason);

    [LoggerMessage(1023, LogLevel.Warning, "The broker did not acknowledge a message on {Topic} within {Seconds:0} s: the connection is made again")]
    public static partial void PublishUnacknowledged(ILogger logger, string topic, double seconds);

    [LoggerMessage(1024, LogLevel.Warning, "Commands could not be dispatched this round; again within a second: {Reason}")]
    public static partial void DispatchFailed(ILogger logger, string reason);

    [LoggerMessage(1025, LogLevel.Information, "Taking device events from the quorum queue {Queue} on {Endpoint}")]
    public static partial void AmqpConsuming(ILogger logger, string queue, string endpoint);

    [LoggerMessage(1026, LogLevel.Warning, "No device events from RabbitMQ; again in {Seconds:0.##} s: {Reason}")]
    public static partial void AmqpFailed(ILogger logger, double seconds, string reason);

    [LoggerMessage(1027, LogLevel.Warning, "A device message on {Topic} could not be stored: {Reason}")]
    public static partial void MessageNotStored(ILogger logger, string topic, string reason);

    [LoggerMessage(1028, LogLevel.Warning, "Leadership could not be checked; again in a second: {Reason}")]
    public static partial void LeadershipCheckFailed(ILogger logger, string reason);
}
