using System.Net;

namespace EdgeInference.Fleet.Broker;

/// <summary>One live connection to the embedded broker: who it is, and from where (which tells it from the connection that took its client id over).</summary>
internal sealed record BrokerConnection(BrokerPrincipal Principal, EndPoint? RemoteEndPoint)
{
    public string Identity => Principal.Identity;
}
