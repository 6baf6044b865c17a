using System.Net;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeInference.Fleet.Broker;

/// <summary>
/// The MQTT broker the fleet service runs in-process (MQTTnet.Server). Each connection authenticates:
/// a device with its id as user name, its enrollment secret as password and <c>edge-agent-{id}</c> as client
/// id; a dashboard with a reader or operator token; the service's own client with a per-process secret.
/// Every publish and subscription then passes <see cref="BrokerAccess"/>.
/// <para>
/// A client id belongs to one identity (<c>role:subject</c>): <c>edge-agent-*</c> ids to their devices only,
/// <c>edge-fleet-*</c> to the service only, and any other id to whoever holds it while it is connected. A connection
/// that would take over a live session of another identity is refused before the broker touches that session; the
/// same identity may take its own session over (a device reconnecting after a half-open link). Each connection's
/// rights are keyed by client id and remote end point, so the old connection's disconnect never removes the rights
/// of the connection that took its place.
/// </para>
/// </summary>
public sealed class EmbeddedBroker : IHostedService, IBrokerAdmin, IDisposable
{
    public const string ServiceUser = "$fleet";
    public const string ReaderUser = "reader";

    /// <summary>The client id prefix of devices (<c>edge-agent-{id}</c>).</summary>
    public const string DeviceClientPrefix = "edge-agent-";

    /// <summary>The client id prefix of the fleet service's own connections.</summary>
    public const string ServiceClientPrefix = "edge-fleet-";

    private readonly Dictionary<string, BrokerConnection> _connections = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Credentials _credentials;
    private readonly FleetOptions _options;
    private readonly ILogger<EmbeddedBroker> _logger;
    private readonly MqttServer _server;

    public EmbeddedBroker(Credentials credentials, FleetOptions options, FleetCertificate certificate, ILogger<EmbeddedBroker> logger)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        _credentials = credentials;
        _options = options;
        _logger = logger;
        var builder = new MqttServerOptionsBuilder();
        if (options.MqttPort > 0)
        {
            builder.WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(IPAddress.Parse(options.MqttBind)).WithDefaultEndpointPort(options.MqttPort);
        }
        else
        {
            builder.WithoutDefaultEndpoint();
        }

        if (options.MqttTlsPort > 0)
        {
            builder.WithEncryptedEndpoint().WithEncryptedEndpointBoundIPAddress(IPAddress.Parse(options.MqttBind)).WithEncryptedEndpointPort(options.MqttTlsPort)
                .WithEncryptionCertificate(certificate.Certificate).WithEncryptionSslProtocol(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        }

        var serverOptions = builder.Build();
        _server = new MqttServerFactory().CreateMqttServer(serverOptions);
        _server.ValidatingConnectionAsync += ValidateAsync;
        _server.InterceptingPublishAsync += InterceptPublishAsync;
        _server.InterceptingSubscriptionAsync += InterceptSubscriptionAsync;
        _server.ClientDisconnectedAsync += args =>
        {
            lock (_lock)
            {
                // Only this connection's own rights: after a takeover the id already belongs to the new connection.
                if (_connections.TryGetValue(args.ClientId, out var connection) && Equals(connection.RemoteEndPoint, args.RemoteEndPoint))
                {
                    _connections.Remove(args.ClientId);
                }
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>The secret the service's own client connects with (new every start).</summary>
    public string ServiceSecret { get; } = Credentials.NewSecret();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _server.StartAsync().ConfigureAwait(false);
        FleetLog.BrokerStarted(_logger, _options.MqttBind, _options.MqttPort, _options.MqttTlsPort);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync();

    public string Name => "embedded";

    /// <summary>The service's own account is built in.</summary>
    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing to do: connections are checked against the fleet's credentials as they come.</summary>
    public Task AddDeviceAsync(string deviceId, string secret, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Disconnects the device's session (its credentials are already gone, so it cannot come back).</summary>
    public async Task RemoveDeviceAsync(string deviceId, CancellationToken cancellationToken)
    {
        var clientId = DeviceClientPrefix + deviceId;
        foreach (var client in await _server.GetClientsAsync().ConfigureAwait(false))
        {
            if (client.Id == clientId)
            {
                await client.DisconnectAsync(new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.NotAuthorized, ReasonString = "the device was revoked" }).ConfigureAwait(false);
            }
        }

        lock (_lock)
        {
            _connections.Remove(clientId);
        }
    }

    public void Dispose() => _server.Dispose();

    /// <summary>The clients connected now, by client id, with the identity each belongs to (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<string, string> ConnectedIdentities()
    {
        lock (_lock)
        {
            return _connections.ToDictionary(c => c.Key, c => c.Value.Identity, StringComparer.Ordinal);
        }
    }

    private Task ValidateAsync(ValidatingConnectionEventArgs args)
    {
        var principal = Authenticate(args.UserName, args.Password, args.ClientId);
        if (principal is null)
        {
            FleetLog.BrokerRefused(_logger, args.ClientId, args.UserName ?? "");
            args.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            return Task.CompletedTask;
        }

        var identity = principal.Identity;
        var reserved = args.ClientId.StartsWith(DeviceClientPrefix, StringComparison.Ordinal) ? principal.DeviceId is not null
            : args.ClientId.StartsWith(ServiceClientPrefix, StringComparison.Ordinal) ? principal.IsService
            : principal.DeviceId is null && !principal.IsService;
        lock (_lock)
        {
            if (!reserved || (_connections.TryGetValue(args.ClientId, out var holder) && holder.Identity != identity))
            {
                FleetLog.ClientIdRefused(_logger, args.ClientId, identity);
                args.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
                return Task.CompletedTask;
            }

            _connections[args.ClientId] = new BrokerConnection(principal, args.RemoteEndPoint);
        }

        return Task.CompletedTask;
    }

    private bool TryGetPrincipal(string clientId, out BrokerPrincipal principal)
    {
        lock (_lock)
        {
            var found = _connections.TryGetValue(clientId, out var connection);
            principal = connection?.Principal!;
            return found;
        }
    }

    private BrokerPrincipal? Authenticate(string? user, string? password, string clientId)
    {
        if (user == ServiceUser)
        {
            return password == ServiceSecret ? BrokerPrincipal.Service : null;
        }

        var credential = _credentials.Find(password);
        if (credential is null)
        {
            return null;
        }

        if (credential.Role == Roles.Device)
        {
            // The client id is bound to the device, so no device can take over another's session.
            return user == credential.Subject && clientId == DeviceClientPrefix + credential.Subject ? BrokerPrincipal.Device(credential.Subject) : null;
        }

        return user == ReaderUser ? BrokerPrincipal.Reader(credential.Role, credential.Subject) : null;
    }

    private Task InterceptPublishAsync(InterceptingPublishEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        if (!TryGetPrincipal(args.ClientId, out var principal) || !BrokerAccess.CanPublish(principal, topic, args.ApplicationMessage.Retain))
        {
            FleetLog.PublishDenied(_logger, args.ClientId, topic);
            args.ProcessPublish = false;
            args.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
        }

        return Task.CompletedTask;
    }

    private Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        var filter = args.TopicFilter.Topic;
        if (!TryGetPrincipal(args.ClientId, out var principal) || !BrokerAccess.CanSubscribe(principal, filter))
        {
            FleetLog.SubscribeDenied(_logger, args.ClientId, filter);
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        }

        return Task.CompletedTask;
    }
}
