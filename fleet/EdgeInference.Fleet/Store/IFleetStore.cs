namespace EdgeInference.Fleet.Store;

/// <summary>
/// The fleet's state. The embedded implementation is LiteDB (<see cref="LiteDbFleetStore"/>); a PostgreSQL
/// one can take its place, since nothing else touches storage. Every write is durable when the call returns.
/// </summary>
public interface IFleetStore : IDisposable
{
    DeviceRecord? GetDevice(string id);

    IReadOnlyList<DeviceRecord> ListDevices();

    void SaveDevice(DeviceRecord device);

    /// <summary>Reads, changes and saves one device atomically (creating it when new): replicas handling its messages lose none of each other's changes.</summary>
    DeviceRecord UpdateDevice(string id, Action<DeviceRecord> change);

    CredentialRecord? FindCredential(string hash);

    void SaveCredential(CredentialRecord credential);

    void DeleteCredentials(string role, string subject);

    PackageRecord? GetPackage(string name, string version);

    IReadOnlyList<PackageRecord> ListPackages();

    void SavePackage(PackageRecord package);

    RolloutRecord? GetRollout(string id);

    IReadOnlyList<RolloutRecord> ListRollouts();

    void SaveRollout(RolloutRecord rollout);

    /// <summary>The rollout's per-device rows, one per device it gave its version to.</summary>
    IReadOnlyList<RolloutAssignment> ListAssignments(string rolloutId);

    /// <summary>
    /// Saves a rollout's row for one device and, when given, the command it refers to (a deploy or a rollback) in one
    /// commit: after a crash either both are there or neither.
    /// </summary>
    void SaveAssignment(RolloutAssignment assignment, CommandRecord? command = null);

    void AddEvent(RolloutEvent entry);

    IReadOnlyList<RolloutEvent> ListEvents(string rolloutId);

    CommandRecord? GetCommand(string id);

    IReadOnlyList<CommandRecord> ListCommands(string? deviceId);

    /// <summary>The commands with these ids (those that exist), in one read.</summary>
    IReadOnlyList<CommandRecord> GetCommands(IReadOnlyCollection<string> ids);

    /// <summary>Commands still waiting for their final reply (the ones worth sending again), oldest first.</summary>
    IReadOnlyList<CommandRecord> ListOpenCommands();

    void SaveCommand(CommandRecord command);

    /// <summary>
    /// Claims up to <paramref name="limit"/> commands due for a send (<see cref="CommandRecord.DueAt"/>) to devices that
    /// are online, oldest first, leasing each until <paramref name="now"/> + <paramref name="lease"/>; replicas claiming at
    /// the same time get disjoint sets.
    /// </summary>
    IReadOnlyList<CommandRecord> ClaimDueCommands(DateTimeOffset now, TimeSpan silence, TimeSpan lease, int limit);

    /// <summary>The ids of open commands past their expiry (<see cref="CommandRecord.ExpiredAt"/>).</summary>
    IReadOnlyList<string> ListExpiredCommands(DateTimeOffset now);

    /// <summary>Reads, changes and saves one command atomically (no other write to it in between); false when there is none.</summary>
    bool UpdateCommand(string id, Func<CommandRecord, bool> change);

    /// <summary>The signed trust document the fleet hands devices, or null before the operator pushes one.</summary>
    EdgeInference.Packaging.SignedTrust? GetTrust();

    void SaveTrust(EdgeInference.Packaging.SignedTrust trust);

    /// <summary>
    /// Holds the fleet-wide rollout lock until disposed: across every replica on this store, one at a time starts,
    /// acts on or plans rollouts, each reading them afresh under it.
    /// </summary>
    IDisposable LockRollouts();

    /// <summary>Leadership for this replica if no other holds it, else null (see <see cref="ILeadershipLease"/>).</summary>
    ILeadershipLease? TryLead();
}
