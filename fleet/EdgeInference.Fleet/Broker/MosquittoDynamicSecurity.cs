using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeInference.Fleet.Broker;

/// <summary>
/// Administers mosquitto through its dynamic-security plugin (<c>--broker-admin mosquitto</c>): JSON commands published
/// to <c>$CONTROL/dynamic-security/v1</c>, answered on <c>…/v1/response</c>, over a connection of its own with the
/// fleet's broker account (which must hold the plugin's <c>admin</c> role). Each device gets a client (its id as user
/// name, its secret, client id <c>edge-agent-{id}</c>) and a role of its own, <c>edge-device-{id}</c>, allowing exactly
/// what the embedded broker allows (<see cref="BrokerAccess"/>): publishing its status, telemetry, drift, predictions
/// and replies, and subscribing to its commands. The fleet's account is given the role <c>edge-fleet</c>, to publish
/// commands. Deleting a client disconnects it at once.
/// </summary>
public sealed class MosquittoDynamicSecurity : IBrokerAdmin, IDisposable
{
    public const string ControlTopic = "$CONTROL/dynamic-security/v1";
    public const string FleetRole = "edge-fleet";

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);
    private readonly FleetOptions _options;
    private readonly ILogger<MosquittoDynamicSecurity> _logger;
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly SemaphoreSlim _connect = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonArray>> _pending = new(StringComparer.Ordinal);
    private volatile bool _prepared;

    public MosquittoDynamicSecurity(FleetOptions options, ILogger<MosquittoDynamicSecurity> logger)
    {
        _options = options;
        _logger = logger;
        _client.ApplicationMessageReceivedAsync += args =>
        {
            Answer(args.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        _client.DisconnectedAsync += args =>
        {
            // Nobody waits for an answer that cannot come any more.
            foreach (var waiting in _pending.Values)
            {
                waiting.TrySetException(new BrokerAdminException($"mosquitto closed the administration connection ({args.ReasonString ?? args.Reason.ToString()})"));
            }

            return Task.CompletedTask;
        };
    }

    public string Name => "mosquitto dynamic security";

    /// <summary>
    /// Gives the fleet's account the role <c>edge-fleet</c> (publish <c>edge/+/commands/#</c>, subscribe <c>edge/#</c>)
    /// unless it has it. mosquitto disconnects every client of an account whose roles change, this connection
    /// included, so it is done before the fleet's own client connects, and this connection is made again.
    /// </summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_prepared)
        {
            return;
        }

        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        if (!await FleetHasRoleAsync(cancellationToken).ConfigureAwait(false))
        {
            var acls = new JsonArray(Acl("publishClientSend", $"{MqttTopics.Root}/+/commands/#"), Acl("subscribePattern", $"{MqttTopics.Root}/#"));
            var created = await RequestAsync([Command("createRole", ("rolename", FleetRole), ("acls", acls))], cancellationToken).ConfigureAwait(false);
            if (created.FirstOrDefault()?["error"]?.GetValue<string>() is { } error && !error.Contains("already exists", StringComparison.OrdinalIgnoreCase))
            {
                throw new BrokerAdminException($"mosquitto refused createRole {FleetRole}: {error}");
            }

            try
            {
                await RequestAsync([Command("addClientRole", ("username", _options.MqttUsername), ("rolename", FleetRole), ("priority", 1))], cancellationToken).ConfigureAwait(false);
            }
            catch (BrokerAdminException) when (!_client.IsConnected)
            {
                // Disconnected by the change itself, as mosquitto does; whether it took is read below.
            }

            // mosquitto closes this connection for the change, a moment after it answers (or before): connect again
            // once it has, and read the roles back.
            var granted = false;
            for (var attempt = 0; attempt < 50 && !granted; attempt++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                try
                {
                    await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
                    granted = await FleetHasRoleAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is BrokerAdminException or InvalidOperationException)
                {
                    // Still being disconnected: try again.
                }
            }

            if (!granted)
            {
                throw new BrokerAdminException($"mosquitto did not give '{_options.MqttUsername}' the role {FleetRole}");
            }

            FleetLog.BrokerAdminGranted(_logger, _options.MqttUsername!, FleetRole);
        }

        _prepared = true;
    }

    private async Task<bool> FleetHasRoleAsync(CancellationToken cancellationToken)
    {
        var answer = await RequestAsync([Command("getClient", ("username", _options.MqttUsername))], cancellationToken).ConfigureAwait(false);
        if (answer.FirstOrDefault()?["error"]?.GetValue<string>() is { } error)
        {
            throw new BrokerAdminException($"mosquitto cannot describe the fleet's account '{_options.MqttUsername}': {error}");
        }

        return answer.FirstOrDefault()?["data"]?["client"]?["roles"] is JsonArray roles
            && roles.Any(r => r?["rolename"]?.GetValue<string>() == FleetRole);
    }

    /// <summary>The role that gives a device its own topics.</summary>
    public static string RoleOf(string deviceId) => $"edge-device-{deviceId}";

    public async Task AddDeviceAsync(string deviceId, string secret, CancellationToken cancellationToken)
    {
        var role = RoleOf(deviceId);
        var root = MqttTopics.Root;
        var acls = new JsonArray(
            Acl("publishClientSend", MqttTopics.Status(deviceId)),
            Acl("publishClientSend", MqttTopics.Telemetry(deviceId)),
            Acl("publishClientSend", MqttTopics.Drift(deviceId)),
            Acl("publishClientSend", MqttTopics.Predictions(deviceId)),
            Acl("publishClientSend", $"{root}/{deviceId}/replies/+"),
            Acl("subscribePattern", MqttTopics.Commands(deviceId)));
        // Replaced whole, so that a re-enrollment leaves no earlier secret or rule behind.
        await RunAsync(
        [
            Command("deleteClient", ("username", deviceId)),
            Command("deleteRole", ("rolename", role)),
            Command("createRole", ("rolename", role), ("acls", acls)),
            Command("createClient", ("username", deviceId), ("password", secret), ("clientid", EmbeddedBroker.DeviceClientPrefix + deviceId),
                ("roles", new JsonArray(new JsonObject { ["rolename"] = role, ["priority"] = 1 }))),
        ], mayFail: 2, cancellationToken).ConfigureAwait(false);
    }

    public Task RemoveDeviceAsync(string deviceId, CancellationToken cancellationToken) =>
        RunAsync([Command("deleteClient", ("username", deviceId)), Command("deleteRole", ("rolename", RoleOf(deviceId)))], mayFail: 2, cancellationToken);

    public void Dispose()
    {
        _client.Dispose();
        _connect.Dispose();
    }

    private static JsonObject Acl(string type, string topic) => new() { ["acltype"] = type, ["topic"] = topic, ["allow"] = true, ["priority"] = 1 };

    private static JsonObject Command(string name, params (string Key, JsonNode? Value)[] fields)
    {
        var command = new JsonObject { ["command"] = name };
        foreach (var (key, value) in fields)
        {
            command[key] = value;
        }

        return command;
    }

    /// <summary>
    /// Sends the commands as one request and waits for its answer; an error from any command past the first
    /// <paramref name="mayFail"/> (deletes of what may not exist) throws.
    /// </summary>
    private async Task RunAsync(JsonObject[] commands, int mayFail, CancellationToken cancellationToken)
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        var responses = await RequestAsync(commands, cancellationToken).ConfigureAwait(false);
        for (var i = mayFail; i < commands.Length; i++)
        {
            if (responses.Count <= i || responses[i]?["error"]?.GetValue<string>() is { } error)
            {
                throw new BrokerAdminException($"mosquitto refused {commands[i]["command"]}: {(responses.Count <= i ? "no answer" : responses[i]!["error"])}");
            }
        }
    }

    private async Task<JsonArray> RequestAsync(JsonObject[] commands, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        foreach (var command in commands)
        {
            command["correlationData"] = id;
        }

        var answer = new TaskCompletionSource<JsonArray>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            var payload = new JsonObject { ["commands"] = new JsonArray(commands) }.ToJsonString();
            var message = new MqttApplicationMessageBuilder().WithTopic(ControlTopic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            var published = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (!published.IsSuccess)
            {
                throw new BrokerAdminException($"mosquitto refused the command message ({published.ReasonCode}): does the fleet's broker account hold the dynamic-security admin role?");
            }

            return await answer.Task.WaitAsync(AnswerTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new BrokerAdminException($"mosquitto did not answer on {ControlTopic}/response within {AnswerTimeout.TotalSeconds:0} s: is the dynamic-security plugin loaded?", ex);
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException ex)
        {
            throw new BrokerAdminException($"the connection to mosquitto failed: {ex.Message}", ex);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private void Answer(byte[] payload)
    {
        try
        {
            if (JsonNode.Parse(payload)?["responses"] is JsonArray responses
                && responses.FirstOrDefault()?["correlationData"]?.GetValue<string>() is { } id
                && _pending.TryGetValue(id, out var waiting))
            {
                waiting.TrySetResult(responses);
            }
        }
        catch (JsonException)
        {
            // Not an answer of ours (another replica's, or garbage): nobody waits on it.
        }
        catch (InvalidOperationException)
        {
        }
    }

    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            return;
        }

        await _connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client.IsConnected)
            {
                return;
            }

            var uri = new Uri(_options.MqttUrl!);
            var builder = new MqttClientOptionsBuilder()
                .WithTcpServer(uri.Host, uri.Port > 0 ? uri.Port : 1883)
                .WithClientId($"{EmbeddedBroker.ServiceClientPrefix}admin-{Guid.NewGuid():N}")
                .WithCredentials(_options.MqttUsername, _options.MqttPassword)
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
                .WithCleanSession(true)
                .WithTimeout(AnswerTimeout);
            if (uri.Scheme == "mqtts")
            {
                builder.WithTlsOptions(tls => tls.UseTls());
            }

            try
            {
                await _client.ConnectAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
                var subscribed = await _client.SubscribeAsync(
                    new MqttClientSubscribeOptionsBuilder().WithTopicFilter(ControlTopic + "/response", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
                if (subscribed.Items.Any(i => (int)i.ResultCode >= 0x80))
                {
                    await _client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken).ConfigureAwait(false);
                    throw new BrokerAdminException($"mosquitto refused the subscription to {ControlTopic}/response: does the fleet's broker account hold the dynamic-security admin role?");
                }
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException)
            {
                throw new BrokerAdminException($"cannot reach mosquitto at {_options.MqttUrl} as '{_options.MqttUsername}': {ex.Message}", ex);
            }

            FleetLog.BrokerAdminConnected(_logger, Name, _options.MqttUrl!);
        }
        finally
        {
            _connect.Release();
        }
    }
}
