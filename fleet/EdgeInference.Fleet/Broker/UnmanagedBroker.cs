namespace EdgeInference.Fleet.Broker;

/// <summary>An external broker the fleet does not administer (<c>--broker-admin none</c>): its operator keeps its credentials and ACL.</summary>
public sealed class UnmanagedBroker : IBrokerAdmin
{
    public string Name => "unmanaged";

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AddDeviceAsync(string deviceId, string secret, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task RemoveDeviceAsync(string deviceId, CancellationToken cancellationToken) => Task.CompletedTask;
}
