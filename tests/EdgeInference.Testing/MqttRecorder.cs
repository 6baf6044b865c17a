using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Testing;

/// <summary>
/// A subscriber to <c>edge/#</c> that keeps every message it gets, as a dashboard or the fleet would. Its
/// session is persistent (MQTT 3.1.1, clean session off), so the broker queues what arrives while the
/// recorder is cut off, and it reconnects by itself.
/// </summary>
public sealed class MqttRecorder : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly List<RecordedMessage> _messages = [];
    private readonly HashSet<string> _predictionIds = [];
    private long _predictionRecords;
    private readonly MqttClientOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private Task? _reconnect;

    private MqttRecorder(string host, int port, TestCertificates? tls)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId($"recorder-{Guid.NewGuid():N}")
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession(false);
        if (tls is not null)
        {
            builder.WithTlsOptions(o =>
            {
                var chain = new X509Certificate2Collection();
                chain.ImportFromPemFile(tls.CaFile);
                using var pem = X509Certificate2.CreateFromPemFile(tls.ClientCertFile, tls.ClientKeyFile);
                o.UseTls().WithTrustChain(chain).WithTargetHost("127.0.0.1")
                    .WithClientCertificates([X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)]);
            });
        }

        _options = builder.Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var message = new RecordedMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Retain);
            if (message.Topic.EndsWith("/predictions", StringComparison.Ordinal))
            {
                var records = JsonNode.Parse(message.Payload)!["records"]!.AsArray();
                Interlocked.Add(ref _predictionRecords, records.Count);
                lock (_predictionIds)
                {
                    foreach (var record in records)
                    {
                        _predictionIds.Add(record!["id"]!.GetValue<string>());
                    }
                }
            }

            lock (_messages)
            {
                _messages.Add(message);
            }

            return Task.CompletedTask;
        };
    }

    public IReadOnlyList<RecordedMessage> Messages
    {
        get
        {
            lock (_messages)
            {
                return _messages.ToArray();
            }
        }
    }

    public static async Task<MqttRecorder> StartAsync(string host, int port, TestCertificates? tls = null)
    {
        var recorder = new MqttRecorder(host, port, tls);
        await recorder.ConnectAsync(CancellationToken.None);
        recorder._reconnect = recorder.KeepConnectedAsync();
        return recorder;
    }

    /// <summary>Prediction records received on any device's predictions topic, duplicates included (counted on arrival).</summary>
    public long PredictionRecordCount => Interlocked.Read(ref _predictionRecords);

    /// <summary>Distinct prediction records received (by record id), counted on arrival.</summary>
    public int DistinctPredictionCount
    {
        get
        {
            lock (_predictionIds)
            {
                return _predictionIds.Count;
            }
        }
    }

    /// <summary>The JSON payloads on <c>edge/{deviceId}/{kind}</c>, in arrival order.</summary>
    public IReadOnlyList<JsonNode> Payloads(string deviceId, string kind) =>
        Messages.Where(m => m.Topic == $"edge/{deviceId}/{kind}").Select(m => JsonNode.Parse(m.Payload)!).ToArray();

    /// <summary>The sequence numbers of every prediction record received, in arrival order (duplicates included).</summary>
    public IReadOnlyList<long> PredictionSequences(string deviceId) =>
        Payloads(deviceId, "predictions").SelectMany(b => b["records"]!.AsArray()).Select(r => r!["sequence"]!.GetValue<long>()).ToArray();

    public async Task WaitForAsync(Func<MqttRecorder, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout} for {what}; got {Messages.Count} messages: {string.Join(", ", Messages.GroupBy(m => m.Topic).Select(g => $"{g.Key} x{g.Count()}"))}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_reconnect is not null)
        {
            await _reconnect;
        }

        if (_client.IsConnected)
        {
            await _client.DisconnectAsync(new MqttClientDisconnectOptions());
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var result = await _client.ConnectAsync(_options, cancellationToken);
        if (!result.IsSessionPresent)
        {
            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edge/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        }
    }

    private async Task KeepConnectedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(50, _stop.Token);
                if (!_client.IsConnected)
                {
                    await ConnectAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The loop boundary: the broker is away (refused, timed out, dropped); try again.
            }
        }
    }
}
