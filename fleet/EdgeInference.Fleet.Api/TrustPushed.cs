namespace EdgeInference.Fleet.Api;

/// <summary><c>PUT /api/v1/trust</c>: the trust document's version, and how many devices a trust command went to.</summary>
public sealed class TrustPushed
{
    public long Version { get; set; }

    public int Devices { get; set; }
}
