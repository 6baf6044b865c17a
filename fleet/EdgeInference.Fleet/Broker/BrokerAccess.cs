using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Broker;

/// <summary>
/// The embedded broker's ACL. A device may publish only its own <c>edge/{id}/status|telemetry|drift|predictions|replies/{command id}</c>,
/// retained only on <c>status</c> (so it cannot fill the broker's retained store with reply topics), and subscribe only to its
/// own <c>edge/{id}/commands/…</c>; readers may subscribe to everything under <c>edge/</c> and publish nothing; the fleet
/// service itself may do anything.
/// </summary>
public static class BrokerAccess
{
    private static readonly string[] DeviceChannels = ["status", "telemetry", "drift", "predictions", "replies"];

    public static bool CanPublish(BrokerPrincipal principal, string topic, bool retain = false)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(topic);
        if (principal.IsService)
        {
            return true;
        }

        if (principal.DeviceId is not { } device)
        {
            return false;
        }

        var prefix = $"{MqttTopics.Root}/{device}/";
        if (!topic.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = topic[prefix.Length..];
        var channel = rest.Split('/')[0];
        if (retain && channel != "status")
        {
            return false;
        }

        return DeviceChannels.Contains(channel) && (channel == "replies" ? rest.Count(c => c == '/') == 1 && MqttTopics.IsValidDeviceId(rest[(channel.Length + 1)..]) : rest == channel);
    }

    public static bool CanSubscribe(BrokerPrincipal principal, string filter)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(filter);
        if (principal.IsService)
        {
            return true;
        }

        if (principal.IsReader)
        {
            return filter == "#" || filter.StartsWith(MqttTopics.Root + "/", StringComparison.Ordinal);
        }

        if (principal.DeviceId is not { } device)
        {
            return false;
        }

        var prefix = $"{MqttTopics.Root}/{device}/commands/";
        return filter.StartsWith(prefix, StringComparison.Ordinal) || filter == $"{MqttTopics.Root}/{device}/commands";
    }
}
