using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using EdgeInference.Contracts;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Agent.Cloud;

/// <summary>
/// The agent's one MQTT connection. MQTTnet 5 has no managed client, so reconnecting is ours:
/// <see cref="RunAsync"/> connects, keeps the retained status current, and after a loss reconnects with
/// exponential backoff and jitter. The last will marks the device offline; a clean stop says so itself.
/// Publishing is QoS 1 and completes when the broker has acknowledged the message.
/// </summary>
public sealed class MqttLink : IDisposable
{
    private readonly MqttOptions _options;
    private readonly StatusReporter _status;
    private readonly TimeProvider _time;
    private readonly ILogger<MqttLink> _logger;
    private readonly IMqttClient _client;
    private readonly object _gate = new();
    private TaskCompletionSource _connected = NewSignal();
    private TaskCompletionSource _disconnected = NewSignal();
    private string? _publishedStatusKey;

    public MqttLink(MqttOptions options, StatusReporter status, TimeProvider time, ILogger<MqttLink> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _status = status;
        _time = time;
        _logger = logger;
        DeviceId = status.DeviceId;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    public string DeviceId { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>Connections made so far (reconnects included).</summary>
    public int Connections { get; private set; }

    /// <summary>Raised for each message on <c>edge/{deviceId}/commands/#</c>, with the topic's levels after <c>commands/</c>.</summary>
    public event Func<string, ReadOnlyMemory<byte>, CancellationToken, Task>? CommandReceived;

    /// <summary>Completes once the link is connected (at once if it is).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _connected.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Publishes at QoS 1 and returns once the broker acknowledged; throws when it did not.</summary>
    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain);
        if (_options.Protocol != "3.1.1")
        {
            builder.WithContentType("application/json"); // a property MQTT 3.1.1 does not have
        }

        var message = builder.Build();
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            throw new MqttPublishException($"the broker refused the message on {topic}: {result.ReasonCode} {result.ReasonString}");
        }
    }

    /// <summary>Keeps the link up until cancelled, then says offline and disconnects cleanly.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(_options.ReconnectMinDelay, _options.ReconnectMaxDelay, new Random());
        var options = BuildClientOptions();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    Task disconnected;
                    lock (_gate)
                    {
                        _disconnected = NewSignal();
                        disconnected = _disconnected.Task;
                    }

                    await _client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
                    await _client.SubscribeAsync(
                        new MqttClientSubscribeOptionsBuilder().WithTopicFilter(MqttTopics.Commands(DeviceId), MqttQualityOfServiceLevel.AtLeastOnce).Build(),
                        cancellationToken).ConfigureAwait(false);
                    _publishedStatusKey = null;
                    await PublishStatusIfChangedAsync(cancellationToken).ConfigureAwait(false);
                    backoff.Reset();
                    Connections++;
                    CloudLog.Connected(_logger, _options.Url!, DeviceId);
                    lock (_gate)
                    {
                        _connected.TrySetResult();
                    }

                    await KeepStatusCurrentAsync(disconnected, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // The loop boundary: any failure to connect or to stay connected means wait and try again.
                    var delay = backoff.Next();
                    CloudLog.ConnectionFailed(_logger, _options.Url!, delay.TotalSeconds, ex.Message);
                    if (_client.IsConnected)
                    {
                        await _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
                    }

                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await SayOfflineAsync().ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>While connected, republishes the retained status whenever what it says changes (models loaded, failed, replaced).</summary>
    private async Task KeepStatusCurrentAsync(Task disconnected, CancellationToken cancellationToken)
    {
        while (true)
        {
            var tick = Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
            if (await Task.WhenAny(disconnected, tick).ConfigureAwait(false) == disconnected)
            {
                throw new MqttLinkLostException("the connection to the broker was lost");
            }

            await tick.ConfigureAwait(false);
            await PublishStatusIfChangedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PublishStatusIfChangedAsync(CancellationToken cancellationToken)
    {
        // Comparing the models is cheap; the whole status (hardware probe included) is built only when they changed.
        var key = _status.ModelsKey();
        if (key == _publishedStatusKey)
        {
            return;
        }

        await PublishAsync(MqttTopics.Status(DeviceId), StatusReporter.Serialize(_status.Build(online: true)), retain: true, cancellationToken).ConfigureAwait(false);
        _publishedStatusKey = key;
    }

    private async Task SayOfflineAsync()
    {
        if (!_client.IsConnected)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await PublishAsync(MqttTopics.Status(DeviceId), StatusReporter.Serialize(_status.Build(online: false)), retain: true, timeout.Token).ConfigureAwait(false);
            await _client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException or MqttPublishException)
        {
            // Stopping anyway; the broker sends the last will instead.
            CloudLog.OfflineNotSaid(_logger, ex.Message);
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs args)
    {
        lock (_gate)
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = NewSignal();
            }

            _disconnected.TrySetResult();
        }

        if (args.ClientWasConnected)
        {
            CloudLog.Disconnected(_logger, args.Reason.ToString(), args.Exception?.Message ?? "");
        }

        return Task.CompletedTask;
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var prefix = $"{MqttTopics.Root}/{DeviceId}/commands/";
        var topic = args.ApplicationMessage.Topic;
        if (CommandReceived is { } handler && topic.StartsWith(prefix, StringComparison.Ordinal))
        {
            try
            {
                await handler(topic[prefix.Length..], args.ApplicationMessage.Payload.ToArray(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A bad command must not take the connection down: it is reported and the link goes on.
                CloudLog.CommandFailed(_logger, topic, ex);
            }
        }
    }

    private MqttClientOptions BuildClientOptions()
    {
        var endpoint = MqttEndpoint.Parse(_options.Url!);
        var will = StatusReporter.Serialize(new StatusMessage { DeviceId = DeviceId, State = ConnectionState.Offline, Timestamp = _time.GetUtcNow() });
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(endpoint.Host, endpoint.Port)
            .WithClientId($"edge-agent-{DeviceId}")
            .WithProtocolVersion(_options.Protocol == "3.1.1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithCleanSession(!_options.PersistentSession)
            // MQTT 5 ends a session at disconnect unless it says how long to keep it (3.1.1 keeps it until a clean one).
            .WithSessionExpiryInterval(_options.PersistentSession ? (uint)MqttOptions.SessionExpiry.TotalSeconds : 0)
            .WithWillTopic(MqttTopics.Status(DeviceId))
            .WithWillPayload(will)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_options.Username is not null)
        {
            builder.WithCredentials(_options.Username, _options.Password ?? "");
        }

        if (endpoint.Tls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls();
                tls.WithTargetHost(endpoint.Host);
                if (FleetTrust.Anchors(_options) is { } anchors)
                {
                    tls.WithTrustChain(anchors);
                }

                if (_options.CertFile is not null)
                {
                    var certificate = X509Certificate2.CreateFromPemFile(_options.CertFile, _options.KeyFile);
                    // SslStream wants a certificate whose key it can use on every platform: round-trip through PKCS#12.
                    tls.WithClientCertificates([X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)]);
                }
            });
        }

        return builder.Build();
    }
}
