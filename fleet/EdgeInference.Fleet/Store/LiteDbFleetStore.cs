using JsonSerializer = System.Text.Json.JsonSerializer;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using EdgeInference.Fleet.Api;
using EdgeInference.Storage;
using LiteDB;

namespace EdgeInference.Fleet.Store;

/// <summary>
/// The embedded store: one LiteDB file (<c>fleet.db</c> in the data folder) over fsyncing, journaled streams,
/// committed after every write. Documents hold their record as source-generated JSON (no reflection mapping)
/// beside the fields that are queried.
/// </summary>
public sealed class LiteDbFleetStore : IFleetStore
{
    private readonly LiteDatabase _database;
    private readonly Lock _lock = new();

    public LiteDbFleetStore(string path)
        : this(OpenFile(path))
    {
    }

    /// <summary>Over a database the caller opened (the crash tests pass one on a simulated disk); the store owns it.</summary>
    internal LiteDbFleetStore(LiteDatabase database)
    {
        _database = database;
        _database.GetCollection("commands").EnsureIndex("device");
        _database.GetCollection("commands").EnsureIndex("final");
        _database.GetCollection("events").EnsureIndex("rollout");
        _database.GetCollection("rollout_devices").EnsureIndex("rollout");
        MoveAssignmentsToRows();
    }

    private static LiteDatabase OpenFile(string path)
    {
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return DurableLiteDatabase.Open(path);
    }

    public DeviceRecord? GetDevice(string id) => Get("devices", id, FleetJsonContext.Default.DeviceRecord);

    public IReadOnlyList<DeviceRecord> ListDevices() => List("devices", FleetJsonContext.Default.DeviceRecord, null);

    public void SaveDevice(DeviceRecord device) => Put("devices", device.Id, device, FleetJsonContext.Default.DeviceRecord);

    public DeviceRecord UpdateDevice(string id, Action<DeviceRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_lock)
        {
            var device = GetDevice(id) ?? new DeviceRecord { Id = id };
            change(device);
            SaveDevice(device);
            return device;
        }
    }

    public CredentialRecord? FindCredential(string hash) => Get("credentials", hash, FleetJsonContext.Default.CredentialRecord);

    public void SaveCredential(CredentialRecord credential) =>
        Put("credentials", credential.Hash, credential, FleetJsonContext.Default.CredentialRecord, new BsonDocument { ["subject"] = credential.Role + ":" + credential.Subject });

    public void DeleteCredentials(string role, string subject)
    {
        lock (_lock)
        {
            _database.GetCollection("credentials").DeleteMany(Query.EQ("subject", role + ":" + subject));
            DurableLiteDatabase.Commit(_database);
        }
    }

    public PackageRecord? GetPackage(string name, string version) => Get("packages", $"{name}@{version}", FleetJsonContext.Default.PackageRecord);

    public IReadOnlyList<PackageRecord> ListPackages() => List("packages", FleetJsonContext.Default.PackageRecord, null);

    public void SavePackage(PackageRecord package) => Put("packages", package.Key, package, FleetJsonContext.Default.PackageRecord);

    public RolloutRecord? GetRollout(string id) => Get("rollouts", id, FleetJsonContext.Default.RolloutRecord);

    public IReadOnlyList<RolloutRecord> ListRollouts() => List("rollouts", FleetJsonContext.Default.RolloutRecord, null);

    public void SaveRollout(RolloutRecord rollout) => Put("rollouts", rollout.Id, rollout, FleetJsonContext.Default.RolloutRecord);

    public IReadOnlyList<RolloutAssignment> ListAssignments(string rolloutId) =>
        List("rollout_devices", FleetJsonContext.Default.RolloutAssignment, Query.EQ("rollout", rolloutId));

    public void SaveAssignment(RolloutAssignment assignment, CommandRecord? command = null)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        lock (_lock)
        {
            // One checkpoint for both: until it, neither is in the data file.
            Upsert("rollout_devices", AssignmentKey(assignment.RolloutId, assignment.DeviceId), assignment, FleetJsonContext.Default.RolloutAssignment, new BsonDocument { ["rollout"] = assignment.RolloutId });
            if (command is not null)
            {
                Upsert("commands", command.Id, command, FleetJsonContext.Default.CommandRecord, CommandFields(command));
            }

            DurableLiteDatabase.Commit(_database);
        }
    }

    public void AddEvent(RolloutEvent entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Put("events", ObjectId.NewObjectId().ToString(), entry, FleetJsonContext.Default.RolloutEvent, new BsonDocument { ["rollout"] = entry.RolloutId });
    }

    public IReadOnlyList<RolloutEvent> ListEvents(string rolloutId) =>
        List("events", FleetJsonContext.Default.RolloutEvent, Query.EQ("rollout", rolloutId)).OrderBy(e => e.At).ToArray();

    public CommandRecord? GetCommand(string id) => Get("commands", id, FleetJsonContext.Default.CommandRecord);

    public IReadOnlyList<CommandRecord> ListCommands(string? deviceId) =>
        List("commands", FleetJsonContext.Default.CommandRecord, deviceId is null ? null : Query.EQ("device", deviceId)).OrderBy(c => c.CreatedAt).ToArray();

    public IReadOnlyList<CommandRecord> ListOpenCommands() =>
        List("commands", FleetJsonContext.Default.CommandRecord, Query.EQ("final", false)).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id, StringComparer.Ordinal).ToArray();

    public IReadOnlyList<CommandRecord> GetCommands(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        lock (_lock)
        {
            return ids.Select(id => Get("commands", id, FleetJsonContext.Default.CommandRecord)).OfType<CommandRecord>().ToArray();
        }
    }

    public void SaveCommand(CommandRecord command)
    {
        ArgumentNullException.ThrowIfNull(command);
        Put("commands", command.Id, command, FleetJsonContext.Default.CommandRecord, CommandFields(command));
    }

    public IReadOnlyList<CommandRecord> ClaimDueCommands(DateTimeOffset now, TimeSpan silence, TimeSpan lease, int limit)
    {
        lock (_lock)
        {
            var claimed = new List<CommandRecord>();
            foreach (var command in ListOpenCommands())
            {
                if (claimed.Count == limit)
                {
                    break;
                }

                if (command.DueAt(now, silence) && GetDevice(command.DeviceId)?.Online == true)
                {
                    command.LeaseUntil = now + lease;
                    SaveCommand(command);
                    claimed.Add(command);
                }
            }

            return claimed;
        }
    }

    public IReadOnlyList<string> ListExpiredCommands(DateTimeOffset now) =>
        ListOpenCommands().Where(c => c.ExpiredAt(now)).Select(c => c.Id).ToArray();

    public bool UpdateCommand(string id, Func<CommandRecord, bool> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_lock)
        {
            var command = Get("commands", id, FleetJsonContext.Default.CommandRecord);
            if (command is null || !change(command))
            {
                return false;
            }

            SaveCommand(command);
            return true;
        }
    }

    public EdgeInference.Packaging.SignedTrust? GetTrust() => Get("trust", "current", FleetJsonContext.Default.SignedTrust);

    public void SaveTrust(EdgeInference.Packaging.SignedTrust trust) => Put("trust", "current", trust, FleetJsonContext.Default.SignedTrust);

    /// <summary>Nothing to hold: one process opens the file, and the rollout engine serializes its own work.</summary>
    public IDisposable LockRollouts() => new SingleProcessLease();

    public ILeadershipLease? TryLead() => new SingleProcessLease();

    public void Dispose()
    {
        lock (_lock)
        {
            _database.Dispose();
        }
    }

    private T? Get<T>(string collection, string id, JsonTypeInfo<T> type)
        where T : class
    {
        lock (_lock)
        {
            var document = _database.GetCollection(collection).FindById(id);
            return document is null ? null : JsonSerializer.Deserialize(document["json"].AsString, type);
        }
    }

    private IReadOnlyList<T> List<T>(string collection, JsonTypeInfo<T> type, BsonExpression? where)
    {
        lock (_lock)
        {
            var documents = where is null ? _database.GetCollection(collection).FindAll() : _database.GetCollection(collection).Find(where);
            return documents.Select(d => JsonSerializer.Deserialize(d["json"].AsString, type)!).ToArray();
        }
    }

    private static BsonDocument CommandFields(CommandRecord command) => new() { ["device"] = command.DeviceId, ["final"] = command.Final };

    private static string AssignmentKey(string rolloutId, string deviceId) => rolloutId + "/" + deviceId;

    /// <summary>
    /// A fleet.db written before rollouts had rows keeps each rollout's devices in an <c>assignments</c> object inside
    /// its document: they become rows, and the document loses the object, in one checkpoint.
    /// </summary>
    private void MoveAssignmentsToRows()
    {
        var rollouts = _database.GetCollection("rollouts");
        var moved = false;
        foreach (var document in rollouts.FindAll().ToArray())
        {
            // Parsed only when the old field may be there: every open passes here, and stores made since hold none.
            var text = document["json"].AsString;
            if (!text.Contains("\"assignments\"", StringComparison.Ordinal) || JsonNode.Parse(text) is not JsonObject json || json["assignments"] is not JsonObject assignments)
            {
                continue;
            }

            var rolloutId = document["_id"].AsString;
            foreach (var (deviceId, value) in assignments)
            {
                var assignment = value.Deserialize(FleetJsonContext.Default.RolloutAssignment) ?? new RolloutAssignment();
                assignment.RolloutId = rolloutId;
                assignment.DeviceId = deviceId;
                Upsert("rollout_devices", AssignmentKey(rolloutId, deviceId), assignment, FleetJsonContext.Default.RolloutAssignment, new BsonDocument { ["rollout"] = rolloutId });
            }

            json.Remove("assignments");
            document["json"] = json.ToJsonString();
            rollouts.Update(document);
            moved = true;
        }

        if (moved)
        {
            DurableLiteDatabase.Commit(_database);
        }
    }

    private void Put<T>(string collection, string id, T record, JsonTypeInfo<T> type, BsonDocument? fields = null)
    {
        lock (_lock)
        {
            Upsert(collection, id, record, type, fields);
            DurableLiteDatabase.Commit(_database);
        }
    }

    private void Upsert<T>(string collection, string id, T record, JsonTypeInfo<T> type, BsonDocument? fields)
    {
        var document = new BsonDocument { ["_id"] = id, ["json"] = JsonSerializer.Serialize(record, type) };
        if (fields is not null)
        {
            foreach (var (key, value) in fields)
            {
                document[key] = value;
            }
        }

        lock (_lock)
        {
            _database.GetCollection(collection).Upsert(document);
        }
    }
}
