namespace EdgeInference.Fleet.Broker;

/// <summary>The broker did not take a change to its devices; the message says what it answered, or that it did not.</summary>
public sealed class BrokerAdminException : Exception
{
    public BrokerAdminException()
    {
    }

    public BrokerAdminException(string message)
        : base(message)
    {
    }

    public BrokerAdminException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
