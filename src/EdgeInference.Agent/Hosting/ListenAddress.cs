using System.Globalization;
using System.Net;

namespace EdgeInference.Agent.Hosting;

/// <summary>A TCP or Unix-socket address to listen on, parsed from <c>--urls</c> or <c>--grpc</c>.</summary>
public sealed record ListenAddress(IPEndPoint? Tcp, string? UnixSocketPath, bool AnyAddress, bool Localhost)
{
    /// <summary>Parses ';'-separated <c>http://host:port</c> or <c>http://unix:/path</c> URLs.</summary>
    public static IReadOnlyList<ListenAddress> ParseHttp(string urls)
    {
        var parts = (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new FormatException("--urls (Agent:Urls) is empty; give e.g. http://127.0.0.1:8000");
        }

        return parts.Select(url =>
        {
            if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"--urls: '{url}' must start with http:// (TLS is terminated outside the agent)");
            }

            return Parse(url["http://".Length..].TrimEnd('/'), "--urls", url);
        }).ToArray();
    }

    /// <summary>Parses <c>host:port</c> or <c>unix:/path</c>.</summary>
    public static ListenAddress ParseGrpc(string address) => Parse(address.Trim(), "--grpc", address);

    private static ListenAddress Parse(string hostPort, string option, string original)
    {
        if (hostPort.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            var path = hostPort["unix:".Length..];
            if (!path.StartsWith('/'))
            {
                throw new FormatException($"{option}: '{original}' needs an absolute socket path, e.g. unix:/run/edge-agent/grpc.sock");
            }

            return new ListenAddress(null, path, false, false);
        }

        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new FormatException($"{option}: '{original}' needs a host and a port, e.g. 127.0.0.1:8001");
        }

        var host = hostPort[..colon].Trim('[', ']');
        return host switch
        {
            "*" or "+" or "0.0.0.0" or "::" => new ListenAddress(new IPEndPoint(IPAddress.IPv6Any, port), null, true, false),
            "localhost" => new ListenAddress(new IPEndPoint(IPAddress.Loopback, port), null, false, true),
            _ when IPAddress.TryParse(host, out var ip) => new ListenAddress(new IPEndPoint(ip, port), null, false, false),
            _ => throw new FormatException($"{option}: '{original}' has host '{host}', which is not an IP address, localhost or *"),
        };
    }
}
