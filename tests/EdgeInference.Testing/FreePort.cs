using System.Net;
using System.Net.Sockets;

namespace EdgeInference.Testing;

public static class FreePort
{
    private const int First = 20000;
    private const int Count = 32768 - First;

    // The next candidate, from a random start: ports are handed out in turn, so two tests of one run never get the
    // same one (drawing at random did, often enough to fail a run). A counter is the one shared state this needs.
    private static int _next = Random.Shared.Next(Count);

    /// <summary>
    /// A TCP port on 127.0.0.1 that was free a moment ago and that no other caller in this process has been given,
    /// from below the kernel's ephemeral range (32768–60999 by default): every outgoing connection takes its local
    /// port from that range, so a port handed out there can be taken by some client socket before the server binds it.
    /// </summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < Count; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: the next one.
            }
        }

        throw new InvalidOperationException($"no free TCP port on 127.0.0.1 from {First} to {First + Count - 1}");
    }
}
