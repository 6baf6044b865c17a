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

        if (options.MqttUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "mqtt"))
        {
            failures.Add($"Fleet:MqttUrl (--mqtt-url) '{url}' is not mqtt://host:port");
        }

        if (options.BrokerAdmin is not (FleetOptions.NoAdmin or FleetOptions.MosquittoAdmin))
        {
            failures.Add($"Fleet:BrokerAdmin (--broker-admin) '{options.BrokerAdmin}' is not none or mosquitto");
        }
        else if (options.BrokerAdmin == FleetOptions.MosquittoAdmin && (options.MqttUrl is null || string.IsNullOrEmpty(options.MqttUsername)))
        {
            failures.Add("Fleet:BrokerAdmin (--broker-admin) mosquitto needs the broker (--mqtt-url) and the fleet's account on it (--mqtt-username, --mqtt-password), which must hold the dynamic-security admin role");
        }

        if (options.PublicUrl is { } publicUrl && (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var web) || web.Scheme is not ("http" or "https")))
        {
            failures.Add($"Fleet:PublicUrl (--public-url) '{publicUrl}' is not an http(s) URL");
        }
        else if (options.PublicUrl is { } plain && new Uri(plain) is { Scheme: "http", IsLoopback: false })
        {
            failures.Add($"Fleet:PublicUrl (--public-url) '{plain}' is plain http off this machine: devices take package URLs only over https (or http on their loopback)");
        }

        if (options.RolloutInterval <= TimeSpan.Zero || options.CommandTimeout <= TimeSpan.Zero)
        {
            failures.Add("Fleet:RolloutInterval and Fleet:CommandTimeout must be positive");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
