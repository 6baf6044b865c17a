namespace EdgeInference.Agent.Cloud;

/// <summary>The connection to the broker went away; the link reconnects.</summary>
public sealed class MqttLinkLostException : Exception
{
    public MqttLinkLostException()
    {
    }

    public MqttLinkLostException(string message)
        : base(message)
    {
    }

    public MqttLinkLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
