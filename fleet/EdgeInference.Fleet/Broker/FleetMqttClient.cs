using System.Buffers;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Registry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Fleet.Broker;

/// <summary>
/// The fleet service's own MQTT connection (to the embedded broker, or an external one): it feeds what
/// devices publish to the <see cref="DeviceRegistry"/> and publishes commands. It reconnects by itself.
/// </summary>
public sealed class FleetMqttClient : BackgroundService
{
    private readonly IMqttClient _client;
    private readonly DeviceRegistry _registry;
    private readonly FleetOptions _options;
    private readonly EmbeddedBroker? _broker;
    private readonly TimeProvider _time;
    private readonly ILogger<FleetMqttClient> _logger;
    private readonly TaskCompletionSource _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly FleetCertificate? _certificate;
    private string? _current;
    private readonly IBrokerAdmin _admin;

    public FleetMqttClient(DeviceRegistry registry, FleetOptions options, EmbeddedBroker? broker, FleetCertificate? certificate, IBrokerAdmin admin, TimeProvider time, ILogger<FleetMqttClient> logger)
    {
        _admin = admin;
        _certificate = certificate;
        _registry = registry;
        _options = options;
        _broker = broker;
        _time = time;
        _logger = logger;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += args =>
        {
            _registry.Handle(args.ApplicationMessage.Topic, args.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
    }

    public bool IsConnected => _client.IsConnected;

    /// <summary>
    /// The brokers this service connects to, in turn: the external ones, or the embedded one's plain listener (its TLS one
    /// when there is no plain one).
    /// </summary>
    public IReadOnlyList<string> BrokerUrls => _options.MqttUrls.Count > 0 ? _options.MqttUrls : [_options.MqttPort > 0
        ? $"mqtt://{LocalBind}:{_options.MqttPort}"
        : $"mqtts://{LocalBind}:{_options.MqttTlsPort}"];

    /// <summary>The broker connected to (or tried last).</summary>
    public string BrokerUrl => _current ?? BrokerUrls[0];

    private string LocalBind => _options.MqttBind is "0.0.0.0" or "::" ? "127.0.0.1" : _options.MqttBind;

    public Task WaitConnectedAsync(CancellationToken cancellationToken) => _firstConnection.Task.WaitAsync(cancellationToken);

    /// <summary>The socket buffers of the fleet's connection (the kernel caps them at net.core.rmem_max / wmem_max).</summary>
    internal const int SocketBufferSize = 1 << 20;

    /// <summary>The most device messages the broker may have sent this replica that it has not handled yet (MQTT 5).</summary>
    internal const ushort ReceiveMaximum = 32;

    /// <summary>
    /// Publishes at QoS 1; throws when not connected, when the broker refuses, or when it does not acknowledge within
    /// <see cref="FleetOptions.PublishTimeout"/> — then the connection is dropped and made again, since it cannot be trusted, and
    /// the caller (which must not wait forever: commands queue behind it) sends again later.
    /// </summary>
    public async Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_options.MqttProtocol != FleetOptions.Mqtt311)
        {
            builder.WithContentType("application/json"); // a property MQTT 3.1.1 does not have
        }

        var message = builder.Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.PublishTimeout);
        MqttClientPublishResult result;
        try
        {
            result = await _client.PublishAsync(message, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationTimedOutException)
        {
            // MQTTnet ends a wait for PUBACK that the deadline cancels with MqttCommunicationTimedOutException, not a
            // cancellation: a connection whose broker stopped acknowledging it would otherwise be kept, and every later
            // command would wait out the deadline on it.
            FleetLog.PublishUnacknowledged(_logger, topic, _options.PublishTimeout.TotalSeconds);
            _ = Task.Run(async () =>
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _client.DisconnectAsync(new MqttClientDisconnectOptions(), quick.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
                {
                    // Gone already: the connection loop makes a new one either way.
                }
            }, CancellationToken.None);
            throw new InvalidOperationException($"the broker did not acknowledge {topic} within {_options.PublishTimeout.TotalSeconds:0.#} s");
        }

        if (!result.IsSuccess)
        {
            throw new InvalidOperationException($"the broker refused the message on {topic}: {result.ReasonCode}");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected)
                {
                    await _admin.PrepareAsync(stoppingToken).ConfigureAwait(false);
                    // A cluster's nodes in turn: each failed attempt moves on to the next.
                    _current = BrokerUrls[attempt++ % BrokerUrls.Count];
                    await _client.ConnectAsync(Options(_current), stoppingToken).ConfigureAwait(false);
                    var subscribe = new MqttClientSubscribeOptionsBuilder();
                    // Status is a state, retained, and a shared subscription gets no retained messages, so every replica
                    // takes it (applying it twice changes nothing). The devices' events (telemetry, drift, replies) are
                    // each handled by one replica: through RabbitMQ's quorum queue (AmqpDeviceEvents) when there is one,
                    // else through MQTT 5 shared subscriptions on an external broker.
                    subscribe.WithTopicFilter($"{MqttTopics.Root}/+/status", MqttQualityOfServiceLevel.AtLeastOnce);
                    if (_options.AmqpUrl is null)
                    {
                        var share = _broker is null && _options.MqttSharedGroup.Length > 0 ? $"$share/{_options.MqttSharedGroup}/" : "";
                        foreach (var channel in new[] { "telemetry", "drift", "replies/+" })
                        {
                            subscribe.WithTopicFilter($"{share}{MqttTopics.Root}/+/{channel}", MqttQualityOfServiceLevel.AtLeastOnce);
                        }
                    }

                    var subscribed = await _client.SubscribeAsync(subscribe.Build(), stoppingToken).ConfigureAwait(false);
                    if (subscribed.Items.FirstOrDefault(i => (int)i.ResultCode >= 0x80) is { } refused)
                    {
                        await _client.DisconnectAsync(new MqttClientDisconnectOptions(), stoppingToken).ConfigureAwait(false);
                        throw new InvalidOperationException($"the broker refused the subscription to {refused.TopicFilter.Topic} ({refused.ResultCode}): may the fleet's account read edge/#?");
                    }

                    FleetLog.ClientConnected(_logger, _current);
                    _firstConnection.TrySetResult();
                    delay = TimeSpan.FromMilliseconds(250);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), _time, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary: wait and reconnect (to the next node of a cluster straight away, once round them all).
                FleetLog.ClientConnectFailed(_logger, BrokerUrl, delay.TotalSeconds, ex.Message);
                if (attempt % BrokerUrls.Count == 0)
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                }
            }
        }
    }

    /// <summary>The connection options for one broker URL.</summary>
    private MqttClientOptions Options(string url)
    {
        var uri = new Uri(url);
        var builder = new MqttClientOptionsBuilder();
        if (uri.Scheme == "mqtts" && _certificate is { } own && _broker is not null)
        {
            // The embedded broker over TLS: this service trusts exactly its own certificate.
            var thumbprint = own.Certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
            builder.WithTlsOptions(tls => tls.UseTls().WithCertificateValidationHandler(args =>
                args.Certificate is { } presented && presented.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) == thumbprint));
        }
        else if (uri.Scheme == "mqtts")
        {
            // An external broker over TLS: its certificate must chain to the system's trusted roots.
            builder.WithTlsOptions(tls => tls.UseTls());
        }

        builder
            .WithTcpServer(uri.Host, uri.Port > 0 ? uri.Port : uri.Scheme == "mqtts" ? 8883 : 1883)
            .WithClientId($"{EmbeddedBroker.ServiceClientPrefix}{Guid.NewGuid():N}")
            .WithCredentials(_broker is null ? _options.MqttUsername : EmbeddedBroker.ServiceUser, _broker?.ServiceSecret ?? _options.MqttPassword)
            .WithCleanSession(true)
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (_options.MqttProtocol == FleetOptions.Mqtt311)
        {
            builder.WithProtocolVersion(MqttProtocolVersion.V311);
        }
        else
        {
            // MQTT 5: the broker sends at most this many messages this client has not acknowledged yet (it acknowledges
            // each once it is handled, so once it is in the store); the rest wait at the broker, not in this process.
            builder.WithProtocolVersion(MqttProtocolVersion.V500).WithReceiveMaximum(ReceiveMaximum);
        }

        var options = builder.Build();
        if (options.ChannelOptions is MqttClientTcpOptions tcp)
        {
            // MQTTnet sets the socket's buffers to this size (8 KB by default), which turns off the kernel's tuning. This
            // connection takes every device's messages: on loopback (64 KB segments) an 8 KB receive buffer shut the
            // window, and the broker's probes, backing off, held its PUBACKs back for minutes.
            tcp.BufferSize = SocketBufferSize;
        }

        return options;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }
}
