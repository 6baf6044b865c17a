namespace EdgeInference.Agent.Cloud;

/// <summary>The broker did not accept a message (a negative acknowledgement).</summary>
public sealed class MqttPublishException : Exception
{
    public MqttPublishException()
    {
    }

    public MqttPublishException(string message)
        : base(message)
    {
    }

    public MqttPublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
