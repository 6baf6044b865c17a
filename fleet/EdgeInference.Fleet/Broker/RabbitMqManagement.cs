using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Broker;

/// <summary>
/// Administers RabbitMQ through its management HTTP API (<c>--broker-admin rabbitmq</c>), as the fleet's broker account
/// (tagged <c>administrator</c>). Each device becomes a user (its id, its secret) on the vhost <c>/</c> (the MQTT plugin's),
/// with resource permissions limited to <c>amq.topic</c> and its own subscription queue (named after its client id
/// <c>edge-agent-{id}</c>), and topic permissions on <c>amq.topic</c>, where MQTT's <c>/</c> is AMQP's <c>.</c>: writing
/// only its own <c>edge.{id}.status|telemetry|drift|predictions|replies.*</c>, reading only its own <c>edge.{id}.commands.*</c>.
/// The id goes into the patterns escaped, never as a pattern. Removing a device deletes its user and closes its connections.
/// </summary>
public sealed class RabbitMqManagement : IBrokerAdmin, IDisposable
{
    /// <summary>The vhost of RabbitMQ's MQTT plugin (its <c>mqtt.vhost</c> default).</summary>
    public const string Vhost = "/";

    private readonly FleetOptions _options;
    private readonly ILogger<RabbitMqManagement> _logger;
    private readonly HttpClient _http;
    private volatile bool _prepared;

    public RabbitMqManagement(FleetOptions options, ILogger<RabbitMqManagement> logger)
    {
        _options = options;
        _logger = logger;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.MqttUsername}:{options.MqttPassword}")));
    }

    public string Name => "RabbitMQ management API";

    /// <summary>Checks the fleet's account is an administrator of the management API (the rest it has as one).</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_prepared)
        {
            return;
        }

        var whoami = await SendAsync(HttpMethod.Get, "whoami", null, cancellationToken).ConfigureAwait(false);
        var tags = whoami?["tags"] switch
        {
            JsonArray array => string.Join(',', array.Select(t => t?.GetValue<string>())),
            JsonValue value => value.GetValue<string>(),
            _ => "",
        };
        if (!tags.Split(',').Contains("administrator", StringComparer.Ordinal))
        {
            throw new BrokerAdminException($"RabbitMQ account '{_options.MqttUsername}' has tags [{tags}], not administrator: it cannot manage devices' users and permissions");
        }

        FleetLog.BrokerAdminConnected(_logger, Name, string.Join(", ", _options.BrokerAdminUrls));
        _prepared = true;
    }

    public async Task AddDeviceAsync(string deviceId, string secret, CancellationToken cancellationToken)
    {
        if (deviceId.Contains('.', StringComparison.Ordinal))
        {
            // RabbitMQ's MQTT plugin turns '/' into '.' and '.' into '/': the device's topics would not be its own.
            throw new BrokerAdminException($"device id '{deviceId}' has a '.', which RabbitMQ's MQTT plugin reads as a topic level separator");
        }

        await PrepareAsync(cancellationToken).ConfigureAwait(false);
        var user = Escape(deviceId);
        var queue = $"mqtt-subscription-{Escape(EmbeddedBroker.DeviceClientPrefix + deviceId)}qos[01]";
        await SendAsync(HttpMethod.Put, $"users/{Uri.EscapeDataString(deviceId)}", new JsonObject { ["password"] = secret, ["tags"] = "" }, cancellationToken).ConfigureAwait(false);
        await SendAsync(HttpMethod.Put, $"permissions/{Uri.EscapeDataString(Vhost)}/{Uri.EscapeDataString(deviceId)}", new JsonObject
        {
            ["configure"] = $"^{queue}$",
            ["write"] = $"^(amq\\.topic|{queue})$",
            ["read"] = $"^(amq\\.topic|{queue})$",
        }, cancellationToken).ConfigureAwait(false);
        await SendAsync(HttpMethod.Put, $"topic-permissions/{Uri.EscapeDataString(Vhost)}/{Uri.EscapeDataString(deviceId)}", new JsonObject
        {
            ["exchange"] = "amq.topic",
            ["write"] = $"^{MqttTopics.Root}\\.{user}\\.(status|telemetry|drift|predictions|replies\\.[^.]+)$",
            ["read"] = $"^{MqttTopics.Root}\\.{user}\\.commands\\.",
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveDeviceAsync(string deviceId, CancellationToken cancellationToken)
    {
        await PrepareAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(HttpMethod.Delete, $"users/{Uri.EscapeDataString(deviceId)}", null, cancellationToken, allowMissing: true).ConfigureAwait(false);
        await SendAsync(HttpMethod.Delete, $"connections/username/{Uri.EscapeDataString(deviceId)}", null, cancellationToken, allowMissing: true).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A device id as a literal inside an Erlang (PCRE) pattern.</summary>
    internal static string Escape(string literal)
    {
        var escaped = new StringBuilder(literal.Length * 2);
        foreach (var c in literal)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-'))
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    /// <summary>One call, to the first management endpoint that answers; throws <see cref="BrokerAdminException"/> naming what failed.</summary>
    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken, bool allowMissing = false)
    {
        Exception? unreachable = null;
        foreach (var endpoint in _options.BrokerAdminUrls)
        {
            using var request = new HttpRequestMessage(method, $"{endpoint.TrimEnd('/')}/api/{path}");
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                unreachable = ex;
                continue;
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return text.Length == 0 ? null : JsonNode.Parse(text);
                }

                if (allowMissing && response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }

                throw new BrokerAdminException($"RabbitMQ answered {method} /api/{path} with {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 300 ? text[..300] : text)}");
            }
        }

        throw new BrokerAdminException($"no RabbitMQ management endpoint answered ({string.Join(", ", _options.BrokerAdminUrls)}): {unreachable?.Message}");
    }
}
