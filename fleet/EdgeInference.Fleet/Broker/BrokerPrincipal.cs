namespace EdgeInference.Fleet.Broker;

/// <summary>
/// Who an MQTT connection to the embedded broker is: a device, a reader (a reader's or operator's token), or the fleet
/// service itself. <see cref="Identity"/> names the holder (<c>role:subject</c>); a client id belongs to one identity.
/// </summary>
public sealed record BrokerPrincipal(string? DeviceId, bool IsReader, bool IsService, string Identity)
{
    public static BrokerPrincipal Device(string id) => new(id, false, false, $"device:{id}");

    public static BrokerPrincipal Reader(string role, string subject) => new(null, true, false, $"{role}:{subject}");

    public static readonly BrokerPrincipal Service = new(null, false, true, "service:edge-fleet");
}
