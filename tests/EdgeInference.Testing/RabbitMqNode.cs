namespace EdgeInference.Testing;

/// <summary>One node of a <see cref="RabbitMqCluster"/>: its Erlang name and its loopback ports.</summary>
public sealed record RabbitMqNode(string Name, int AmqpPort, int MqttPort, int ManagementPort, int DistributionPort)
{
    public string MqttUrl => $"mqtt://127.0.0.1:{MqttPort}";

    public string ManagementUrl => $"http://127.0.0.1:{ManagementPort}";
}
