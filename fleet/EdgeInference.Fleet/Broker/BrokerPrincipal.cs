namespace EdgeInference.Fleet.Broker;

/// <summary>Who an MQTT connection to the embedded broker is: a device, a reader, or the fleet service itself.</summary>
public sealed record BrokerPrincipal(string? DeviceId, bool IsReader, bool IsService)
{
    public static BrokerPrincipal Device(string id) => new(id, false, false);

    public static readonly BrokerPrincipal Reader = new(null, true, false);

    public static readonly BrokerPrincipal Service = new(null, false, true);
}
