namespace EdgeInference.Fleet.Broker;

/// <summary>
/// Keeps the broker in step with enrollment: which devices may connect, with which secret, to which topics. The
/// embedded broker checks the fleet's store itself, so it only has to disconnect a revoked device; an external
/// broker is told (<see cref="MosquittoDynamicSecurity"/>), or, with none configured, enforces its own ACL
/// (<see cref="UnmanagedBroker"/>). A call that fails throws <see cref="BrokerAdminException"/>.
/// </summary>
public interface IBrokerAdmin
{
    /// <summary>What the broker is, for messages (<c>embedded</c>, <c>mosquitto dynamic security</c>…).</summary>
    string Name { get; }

    /// <summary>
    /// Makes sure the fleet's own broker account may publish commands and read what devices send, before the fleet's
    /// client connects; idempotent.
    /// </summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>Lets <paramref name="deviceId"/> connect with <paramref name="secret"/> to its own topics only, replacing any earlier secret.</summary>
    Task AddDeviceAsync(string deviceId, string secret, CancellationToken cancellationToken);

    /// <summary>Removes the device: it is disconnected and cannot connect again.</summary>
    Task RemoveDeviceAsync(string deviceId, CancellationToken cancellationToken);
}
