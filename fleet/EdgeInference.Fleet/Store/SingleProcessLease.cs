namespace EdgeInference.Fleet.Store;

/// <summary>The lease of a store only one process opens (LiteDB): that process always leads.</summary>
public sealed class SingleProcessLease : ILeadershipLease
{
    public bool StillHeld() => true;

    public void Dispose()
    {
    }
}
