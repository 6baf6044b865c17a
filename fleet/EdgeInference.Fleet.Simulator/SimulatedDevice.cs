using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeInference.Contracts;
using EdgeInference.Packaging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeInference.Fleet.Simulator;

/// <summary>
/// One simulated device: it speaks the agent's MQTT contract from <see cref="EdgeInference.Contracts"/> with its own
/// credentials — a retained status with a last will, telemetry windows, and replies to deploy and rollback commands
/// (verify → download → stage → test → switch, then confirm after probation, or a simulated failure) — without
/// running a model. A command id it has handled is answered with where it stands, as the agent does.
/// </summary>
public sealed class SimulatedDevice : IAsyncDisposable
{
    private readonly string _secret;
    private readonly SimulatorOptions _options;
    private readonly SimulatorCounts _counts;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly int _slowness;
    private readonly IPAddress _source;
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly Dictionary<string, ReplyMessage> _handled = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _commands = new(1, 1);
    private readonly CancellationTokenSource _life = new();
    private readonly DateTimeOffset _startedAt;
    private string _serving;
    private string? _previous;
    private bool _stopping;
    private Task _telemetry = Task.CompletedTask;
    private int _node;

    public SimulatedDevice(string id, string secret, SimulatorOptions options, SimulatorCounts counts, HttpClient http, TimeProvider time, Random random, IPAddress source)
    {
        Id = id;
        _secret = secret;
        _options = options;
        _counts = counts;
        _http = http;
        _time = time;
        _random = random;
        _source = source;
        _slowness = random.NextDouble() < options.SlowShare ? options.SlowFactor : 1;
        _serving = options.Version;
        _startedAt = time.GetUtcNow();
        _node = random.Next();
        _client.ApplicationMessageReceivedAsync += args =>
        {
            var payload = System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload);
            _ = Task.Run(() => HandleAsync(payload, _life.Token));
            return Task.CompletedTask;
        };
        _client.DisconnectedAsync += async args =>
        {
            if (args.ClientWasConnected)
            {
                _counts.OnDisconnected();
            }

            if (!_stopping && args.ClientWasConnected)
            {
                await ReconnectAsync(_life.Token).ConfigureAwait(false);
            }
        };
    }

    public string Id { get; }

    /// <summary>The version this device serves now.</summary>
    public string Serving => _serving;

    public bool IsConnected => _client.IsConnected;

    /// <summary>Connects, subscribes to its commands, publishes its status and starts its telemetry.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
        if (_options.TelemetryInterval > TimeSpan.Zero)
        {
            _telemetry = TelemetryLoopAsync(_life.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await _life.CancelAsync().ConfigureAwait(false);
        try
        {
            await _telemetry.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_client.IsConnected)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                // Gone already.
            }
        }

        _client.Dispose();
        _commands.Dispose();
        _life.Dispose();
    }

    private async Task ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var will = JsonSerializer.SerializeToUtf8Bytes(new StatusMessage { DeviceId = Id, State = ConnectionState.Offline, Timestamp = _time.GetUtcNow() }, ContractJsonContext.Default.StatusMessage);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Ports.Count == 0 ? _options.Port : _options.Ports[(_node++ & int.MaxValue) % _options.Ports.Count])
            .WithClientId($"edge-agent-{Id}")
            .WithCredentials(Id, _secret)
            .WithProtocolVersion(_options.Protocol == "3.1.1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithCleanSession(!_options.PersistentSession)
            .WithSessionExpiryInterval(_options.PersistentSession ? (uint)TimeSpan.FromDays(7).TotalSeconds : 0) // as the agent: MQTT 5 ends a session at disconnect otherwise
            .WithWillTopic(MqttTopics.Status(Id)).WithWillPayload(will).WithWillRetain(true).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        if (options.ChannelOptions is MqttClientTcpOptions tcp && !_source.Equals(IPAddress.Loopback))
        {
            tcp.LocalEndpoint = new IPEndPoint(_source, 0);
        }

        await _client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        _counts.OnConnected();
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(MqttTopics.Commands(Id), MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        await PublishStatusAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && !_client.IsConnected)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 + (int)(Chance() * 2000)), _time, cancellationToken).ConfigureAwait(false);
                await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException or InvalidOperationException)
            {
                // The broker is still away: try again.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private Task PublishStatusAsync(CancellationToken cancellationToken)
    {
        var status = new StatusMessage
        {
            DeviceId = Id,
            State = ConnectionState.Online,
            Timestamp = _time.GetUtcNow(),
            AgentVersion = "edge-sim",
            StartedAt = _startedAt,
            Models = [new ModelStatus { Model = _options.Model, Version = 1, PackageVersion = _serving, State = "READY", ExecutionProvider = "CPU" }],
        };
        return PublishAsync(MqttTopics.Status(Id), JsonSerializer.SerializeToUtf8Bytes(status, ContractJsonContext.Default.StatusMessage), retain: true, cancellationToken);
    }

    private async Task TelemetryLoopAsync(CancellationToken cancellationToken)
    {
        // Devices start their windows spread over one interval, as real ones would.
        await Task.Delay(TimeSpan.FromTicks((long)(Chance() * _options.TelemetryInterval.Ticks)), _time, cancellationToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(_options.TelemetryInterval, _time);
        long total = 0;
        do
        {
            if (!_client.IsConnected)
            {
                continue;
            }

            var requests = 10 + (int)(Chance() * 10);
            total += requests;
            var telemetry = new TelemetryMessage
            {
                DeviceId = Id,
                Timestamp = _time.GetUtcNow(),
                WindowSeconds = _options.TelemetryInterval.TotalSeconds,
                Models = [new ModelTelemetry
                {
                    Model = _options.Model, Version = 1, PackageVersion = _serving, ExecutionProvider = "CPU", Requests = requests, RequestsTotal = total,
                    Throughput = requests / _options.TelemetryInterval.TotalSeconds, LatencyMs = new LatencyPercentiles { P50 = 1.0, P95 = 2.0, P99 = 3.0 },
                }],
            };
            try
            {
                await PublishAsync(MqttTopics.Telemetry(Id), JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractJsonContext.Default.TelemetryMessage), retain: false, cancellationToken).ConfigureAwait(false);
                _counts.OnTelemetry();
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
            {
                // Disconnected meanwhile: the next window goes after the reconnect.
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task HandleAsync(byte[] payload, CancellationToken cancellationToken)
    {
        CommandMessage? command;
        try
        {
            command = JsonSerializer.Deserialize(payload, ContractJsonContext.Default.CommandMessage);
        }
        catch (JsonException)
        {
            return;
        }

        if (command is null)
        {
            return;
        }

        _counts.OnCommand();
        try
        {
            await HandleCommandAsync(command, cancellationToken).ConfigureAwait(false);
            if (Chance() < _options.DuplicateShare)
            {
                // Delivered twice: the second must change nothing.
                _counts.OnCommand();
                await HandleCommandAsync(command, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex)
        {
            // The device's loop boundary: disconnected mid-command, a download that failed, a command it cannot read.
            // The fleet sends the command again and is answered with where the device stands.
            _counts.OnError(Id, ex);
        }
    }

    private async Task HandleCommandAsync(CommandMessage command, CancellationToken cancellationToken)
    {
        await _commands.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_handled.TryGetValue(command.Id, out var last))
            {
                _counts.OnDuplicate();
                await ReplyAsync(last, cancellationToken).ConfigureAwait(false);
                return;
            }

            switch (command.Command)
            {
                case CommandNames.Deploy when command.Deploy is { } deploy:
                    await DeployAsync(command, deploy, cancellationToken).ConfigureAwait(false);
                    break;
                case CommandNames.Rollback:
                    (_serving, _previous) = (_previous ?? _serving, _serving);
                    await FinishAsync(command, new ReplyMessage { State = ReplyState.Succeeded, Model = _options.Model, Version = _previous, ServingVersion = _serving, Final = true }, cancellationToken).ConfigureAwait(false);
                    await PublishStatusAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case CommandNames.Benchmark:
                    // No model runs here: the figures say so (provider "simulated", no times).
                    await FinishAsync(command, new ReplyMessage
                    {
                        State = ReplyState.Succeeded, Model = command.Model, Message = "simulated",
                        Benchmark = new BenchmarkResult { Iterations = command.Benchmark?.Iterations ?? 100, Provider = "simulated", Inputs = "zeros" }, Final = true,
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await FinishAsync(command, new ReplyMessage { State = ReplyState.Succeeded, Message = "simulated", Final = true }, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            _commands.Release();
        }
    }

    private async Task DeployAsync(CommandMessage command, DeployCommand deploy, CancellationToken cancellationToken)
    {
        var manifest = JsonSerializer.Deserialize(Convert.FromBase64String(deploy.Package.Manifest), PackageJsonContext.Default.PackageManifest);
        var version = manifest?.Version ?? "";
        if (version == _serving)
        {
            await FinishAsync(command, new ReplyMessage { State = ReplyState.Succeeded, Model = _options.Model, ServingVersion = _serving, Message = $"already at {_serving}", Final = true }, cancellationToken).ConfigureAwait(false);
            return;
        }

        var first = true;
        foreach (var step in new[] { UpdateStep.Verify, UpdateStep.Download, UpdateStep.Stage, UpdateStep.Test })
        {
            await ReplyAsync(Progress(command, version, step), cancellationToken).ConfigureAwait(false);
            if (first)
            {
                _counts.OnDeploy(_time.GetUtcNow() - command.IssuedAt);
                first = false;
            }

            if (step == UpdateStep.Download && _options.Download && manifest is not null)
            {
                await DownloadAsync(deploy, manifest, cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(_options.StepDelay * _slowness, _time, cancellationToken).ConfigureAwait(false);
        }

        var golden = manifest?.Files.Any(f => f.Role == PackageRoles.Golden) == true;
        if (Chance() < _options.FailureRate)
        {
            _counts.OnFailure();
            await FinishAsync(command, new ReplyMessage
            {
                State = ReplyState.Failed, Reason = "simulated_failure", Message = "edge-sim failed this install on purpose", Model = _options.Model, Version = version,
                ServingVersion = _serving, GoldenPassed = golden ? 0 : null, GoldenTotal = golden ? 1 : null, Final = true,
            }, cancellationToken).ConfigureAwait(false);
            return;
        }

        (_previous, _serving) = (_serving, version);
        _counts.OnInstall(Id);
        var switched = Progress(command, version, UpdateStep.Switch);
        switched.GoldenPassed = switched.GoldenTotal = golden ? 1 : null;
        _handled[command.Id] = switched;
        await ReplyAsync(switched, cancellationToken).ConfigureAwait(false);
        try
        {
            await PublishStatusAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
        {
            // The status goes again at the reconnect.
            _counts.OnError(Id, ex);
        }

        await Task.Delay(_options.Probation, _time, cancellationToken).ConfigureAwait(false);
        await FinishAsync(command, new ReplyMessage
        {
            State = ReplyState.Succeeded, Step = UpdateStep.Confirm, Model = _options.Model, Version = version, ServingVersion = _serving,
            GoldenPassed = switched.GoldenPassed, GoldenTotal = switched.GoldenTotal, Final = true,
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task DownloadAsync(DeployCommand deploy, PackageManifest manifest, CancellationToken cancellationToken)
    {
        foreach (var file in manifest.Files)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{deploy.PackageUrl.TrimEnd('/')}/files/{Uri.EscapeDataString(file.Path)}");
            request.Headers.Authorization = new("Bearer", deploy.DownloadToken);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!Convert.ToHexStringLower(SHA256.HashData(bytes)).Equals(file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new HttpRequestException($"{file.Path}: its SHA-256 is not the manifest's");
            }

            _counts.OnDownload();
        }
    }

    /// <summary>The device's random draws, from any of its tasks.</summary>
    private double Chance()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }

    private ReplyMessage Progress(CommandMessage command, string version, UpdateStep step) =>
        new() { CommandId = command.Id, Command = command.Command, State = ReplyState.Progress, Step = step, Model = _options.Model, Version = version, ServingVersion = _serving };

    private Task FinishAsync(CommandMessage command, ReplyMessage reply, CancellationToken cancellationToken)
    {
        reply.CommandId = command.Id;
        reply.Command = command.Command;
        _handled[command.Id] = reply;
        return ReplyAsync(reply, cancellationToken);
    }

    /// <summary>
    /// Publishes a reply; one the broker does not take (the link is down) is lost, counted as an error, and the install
    /// goes on, as on a real device: the fleet sends the command again and is answered with where the device stands.
    /// </summary>
    private async Task ReplyAsync(ReplyMessage reply, CancellationToken cancellationToken)
    {
        reply.DeviceId = Id;
        reply.Timestamp = _time.GetUtcNow();
        try
        {
            await PublishAsync(MqttTopics.Replies(Id, reply.CommandId), JsonSerializer.SerializeToUtf8Bytes(reply, ContractJsonContext.Default.ReplyMessage), retain: false, cancellationToken).ConfigureAwait(false);
            _counts.OnReply();
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
        {
            _counts.OnError(Id, ex);
        }
    }

    private async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        MqttClientPublishResult result;
        try
        {
            result = await _client.PublishAsync(message, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationTimedOutException)
        {
            // Never acknowledged (MQTTnet ends the wait with a timeout exception, not a cancellation): as the agent would, drop the connection and make a new one (the disconnect handler does).
            _ = Task.Run(() => _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None), CancellationToken.None);
            throw new InvalidOperationException($"the broker did not acknowledge {topic} within 10 s");
        }

        if (!result.IsSuccess)
        {
            throw new InvalidOperationException($"the broker refused {topic}: {result.ReasonCode}");
        }
    }
}
