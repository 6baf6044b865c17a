namespace EdgeInference.Agent.Cloud;

/// <summary>A broker address: <c>mqtt://host[:port]</c> or <c>mqtts://host[:port]</c>.</summary>
public sealed record MqttEndpoint(string Host, int Port, bool Tls)
{
    public static MqttEndpoint Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("mqtt" or "mqtts") || string.IsNullOrEmpty(uri.Host)
            || uri.AbsolutePath is not ("" or "/") || !string.IsNullOrEmpty(uri.Query))
        {
            throw new FormatException($"--mqtt (Mqtt:Url) '{url}' is not mqtt://host[:port] or mqtts://host[:port]");
        }

        var tls = uri.Scheme == "mqtts";
        return new MqttEndpoint(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port, tls);
    }
}
