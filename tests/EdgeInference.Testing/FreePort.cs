using System.Net;
using System.Net.Sockets;

namespace EdgeInference.Testing;

public static class FreePort
{
    /// <summary>
    /// A TCP port on 127.0.0.1 that was free a moment ago, drawn from below the kernel's ephemeral range
    /// (32768–60999 by default): every outgoing connection takes its local port from that range, so a port handed
    /// out there can be taken by some client socket before the server binds it.
    /// </summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(20000, 32768);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: draw again.
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }
}
