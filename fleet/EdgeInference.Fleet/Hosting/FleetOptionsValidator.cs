using System.Net;
using Microsoft.Extensions.Options;

namespace EdgeInference.Fleet.Hosting;

/// <summary>Names every bad <c>Fleet</c> setting at start.</summary>
internal sealed class FleetOptionsValidator : IValidateOptions<FleetOptions>
{
    public ValidateOptionsResult Validate(string? name, FleetOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Data))
        {
            failures.Add("Fleet:Data (--data) must name a folder");
        }

        if (options.MqttPort is < 0 or > 65535)
        {
            failures.Add($"Fleet:MqttPort (--mqtt-port) {options.MqttPort} is not a TCP port (0: no plain listener)");
        }

        if (options.MqttTlsPort is < 0 or > 65535)
        {
            failures.Add($"Fleet:MqttTlsPort (--mqtt-tls-port) {options.MqttTlsPort} is not a TCP port (0: no TLS listener)");
        }

        if (options.MqttPort == 0 && options.MqttTlsPort == 0 && options.MqttUrl is null)
        {
            failures.Add("Fleet:MqttPort and Fleet:MqttTlsPort are both 0: the embedded broker would have no listener");
        }

        if (options.MqttPort != 0 && options.MqttPort == options.MqttTlsPort)
        {
            failures.Add($"Fleet:MqttPort and Fleet:MqttTlsPort are both {options.MqttPort}");
        }

        foreach (var (setting, path) in new[] { ("Fleet:TlsCertificate (--tls-cert)", options.TlsCertificate), ("Fleet:TlsKey (--tls-key)", options.TlsKey), ("Fleet:TlsCaFile", options.TlsCaFile) })
        {
            if (path is not null && !File.Exists(path))
            {
                failures.Add($"{setting} '{path}' does not exist");
            }
        }

        if (options.TlsKey is not null && options.TlsCertificate is null)
        {
            failures.Add("Fleet:TlsKey (--tls-key) needs Fleet:TlsCertificate (--tls-cert)");
        }

        if (options.HistoryRetention < TimeSpan.FromDays(1) || options.HistoryRetention > TimeSpan.FromDays(3660))
        {
            failures.Add($"Fleet:HistoryRetention {options.HistoryRetention} must be between 1 and 3660 days");
        }

        if (options.DownloadTokenLifetime <= TimeSpan.Zero)
        {
            failures.Add("Fleet:DownloadTokenLifetime must be positive");
        }

        if (!IPAddress.TryParse(options.MqttBind, out _))
        {
            failures.Add($"Fleet:MqttBind (--mqtt-bind) '{options.MqttBind}' is not an IP address");
        }

        foreach (var url in options.MqttUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("mqtt" or "mqtts"))
            {
                failures.Add($"Fleet:MqttUrl (--mqtt-url) '{url}' is not mqtt://host:port or mqtts://host:port");
            }
        }

        foreach (var url in options.AmqpUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            {
                failures.Add($"Fleet:AmqpUrl (--amqp-url) '{url}' is not amqp://user:password@host:port/vhost");
            }
        }

        if (options.AmqpUrl is not null && options.MqttUrl is null)
        {
            failures.Add("Fleet:AmqpUrl (--amqp-url) is RabbitMQ's: it needs the same cluster's MQTT listener (--mqtt-url) too");
        }

        if (options.MqttProtocol is not (FleetOptions.Mqtt5 or FleetOptions.Mqtt311))
        {
            failures.Add($"Fleet:MqttProtocol (--mqtt-protocol) '{options.MqttProtocol}' is not 5 or 3.1.1");
        }
        else if (options.MqttProtocol == FleetOptions.Mqtt311 && options.MqttSharedGroup.Length > 0 && options.AmqpUrl is null && options.MqttUrl is not null)
        {
            failures.Add("Fleet:MqttProtocol (--mqtt-protocol) 3.1.1 has no shared subscriptions: set Fleet:MqttSharedGroup to \"\" (every replica takes every message), or give RabbitMQ's --amqp-url, where replicas share a queue");
        }

        if (options.BrokerAdmin is not (FleetOptions.NoAdmin or FleetOptions.MosquittoAdmin or FleetOptions.RabbitMqAdmin))
        {
            failures.Add($"Fleet:BrokerAdmin (--broker-admin) '{options.BrokerAdmin}' is not none, mosquitto or rabbitmq");
        }
        else if (options.BrokerAdmin == FleetOptions.MosquittoAdmin && (options.MqttUrl is null || string.IsNullOrEmpty(options.MqttUsername)))
        {
            failures.Add("Fleet:BrokerAdmin (--broker-admin) mosquitto needs the broker (--mqtt-url) and the fleet's account on it (--mqtt-username, --mqtt-password), which must hold the dynamic-security admin role");
        }
        else if (options.BrokerAdmin == FleetOptions.RabbitMqAdmin && (options.MqttUrl is null || string.IsNullOrEmpty(options.MqttUsername) || options.BrokerAdminUrls.Count == 0))
        {
            failures.Add("Fleet:BrokerAdmin (--broker-admin) rabbitmq needs the broker (--mqtt-url), its management API (--broker-admin-url http://host:15672) and the fleet's account (--mqtt-username, --mqtt-password), tagged administrator");
        }

        foreach (var url in options.BrokerAdminUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                failures.Add($"Fleet:BrokerAdminUrl (--broker-admin-url) '{url}' is not an http(s) URL");
            }
        }

        if (options.PublicUrl is { } publicUrl && (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var web) || web.Scheme is not ("http" or "https")))
        {
            failures.Add($"Fleet:PublicUrl (--public-url) '{publicUrl}' is not an http(s) URL");
        }
        else if (options.PublicUrl is { } plain && new Uri(plain) is { Scheme: "http", IsLoopback: false })
        {
            failures.Add($"Fleet:PublicUrl (--public-url) '{plain}' is plain http off this machine: devices take package URLs only over https (or http on their loopback)");
        }

        if (options.RolloutInterval <= TimeSpan.Zero || options.CommandTimeout <= TimeSpan.Zero || options.PublishTimeout <= TimeSpan.Zero)
        {
            failures.Add("Fleet:RolloutInterval, Fleet:CommandTimeout and Fleet:PublishTimeout must be positive");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
