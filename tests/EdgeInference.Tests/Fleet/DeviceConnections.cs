using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Tests.Fleet;

/// <summary>MQTT connections as a device makes them (its id as user name, client id <c>edge-agent-{id}</c>), for the broker ACL tests.</summary>
internal static class DeviceConnections
{
    public static MqttApplicationMessage Status(string device) => new MqttApplicationMessageBuilder().WithTopic($"edge/{device}/status")
        .WithPayload($$"""{"device_id":"{{device}}","state":"online","timestamp":"2026-01-01T00:00:00Z"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    public static MqttClientOptions Options(int port, string user, string password, MqttProtocolVersion version, string? clientId = null) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId ?? $"edge-agent-{user}").WithCredentials(user, password)
            .WithProtocolVersion(version).WithTimeout(TimeSpan.FromSeconds(10)).Build();

    public static async Task<IMqttClient> ConnectAsync(int port, string user, string password, MqttProtocolVersion version)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(Options(port, user, password, version));
        return client;
    }

    /// <summary>
    /// The CONNACK's result code, whether MQTTnet returns it or throws it; "refused" for bad credentials, which the
    /// embedded broker answers BadUserNameOrPassword, and mosquitto's plugin and RabbitMQ NotAuthorized.
    /// </summary>
    public static async Task<string> TryConnectAsync(int port, string user, string password, MqttProtocolVersion version, string? clientId = null)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var code = (await client.ConnectAsync(Options(port, user, password, version, clientId))).ResultCode;
            return code is MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized ? "refused" : code.ToString();
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException ex)
        {
            return ex.Message.Contains("BadUserNameOrPassword", StringComparison.Ordinal) || ex.Message.Contains("NotAuthorized", StringComparison.Ordinal) ? "refused" : ex.Message;
        }
    }
}
