using System.Collections.Concurrent;
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
/// </summary>
public sealed class EmbeddedBroker : IHostedService, IDisposable
{
    public const string ServiceUser = "$fleet";
    public const string ReaderUser = "reader";

    private readonly ConcurrentDictionary<string, BrokerPrincipal> _sessions = new(StringComparer.Ordinal);
    private readonly Credentials _credentials;
    private readonly FleetOptions _options;
    private readonly ILogger<EmbeddedBroker> _logger;
    private readonly MqttServer _server;

    public EmbeddedBroker(Credentials credentials, FleetOptions options, ILogger<EmbeddedBroker> logger)
    {
        _credentials = credentials;
        _options = options;
        _logger = logger;
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Parse(options.MqttBind))
            .WithDefaultEndpointPort(options.MqttPort)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(serverOptions);
        _server.ValidatingConnectionAsync += ValidateAsync;
        _server.InterceptingPublishAsync += InterceptPublishAsync;
        _server.InterceptingSubscriptionAsync += InterceptSubscriptionAsync;
        _server.ClientDisconnectedAsync += args =>
        {
            _sessions.TryRemove(args.ClientId, out _);
            return Task.CompletedTask;
        };
    }

    /// <summary>The secret the service's own client connects with (new every start).</summary>
    public string ServiceSecret { get; } = Credentials.NewSecret();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _server.StartAsync().ConfigureAwait(false);
        FleetLog.BrokerStarted(_logger, _options.MqttBind, _options.MqttPort);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync();

    public void Dispose() => _server.Dispose();

    private Task ValidateAsync(ValidatingConnectionEventArgs args)
    {
        var principal = Authenticate(args.UserName, args.Password, args.ClientId);
        if (principal is null)
        {
            FleetLog.BrokerRefused(_logger, args.ClientId, args.UserName ?? "");
            args.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            return Task.CompletedTask;
        }

        _sessions[args.ClientId] = principal;
        return Task.CompletedTask;
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
            return user == credential.Subject && clientId == $"edge-agent-{credential.Subject}" ? BrokerPrincipal.Device(credential.Subject) : null;
        }

        return user == ReaderUser ? BrokerPrincipal.Reader : null;
    }

    private Task InterceptPublishAsync(InterceptingPublishEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        if (!_sessions.TryGetValue(args.ClientId, out var principal) || !BrokerAccess.CanPublish(principal, topic))
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
        if (!_sessions.TryGetValue(args.ClientId, out var principal) || !BrokerAccess.CanSubscribe(principal, filter))
        {
            FleetLog.SubscribeDenied(_logger, args.ClientId, filter);
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        }

        return Task.CompletedTask;
    }
}
