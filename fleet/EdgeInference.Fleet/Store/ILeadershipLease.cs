namespace EdgeInference.Fleet.Store;

/// <summary>
/// This replica's lease on leadership: while it is held, this replica alone runs the rollout planner. PostgreSQL holds it
/// as a session advisory lock on a connection of its own (gone with the connection, so a dead leader's lease ends by
/// itself); a single-process store holds it always.
/// </summary>
public interface ILeadershipLease : IDisposable
{
    /// <summary>Whether the lease is still held (for PostgreSQL: its connection still answers).</summary>
    bool StillHeld();
}
