using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using EdgeInference.Packaging;
using Npgsql;
using NpgsqlTypes;

namespace EdgeInference.Fleet.Store;

/// <summary>
/// The fleet's state in PostgreSQL (<c>--store postgres://…</c>), for fleets that outgrow one machine: each record is
/// source-generated JSON in a <c>jsonb</c> column of its own table, with the columns queries need beside it (a
/// command's device and finality, an event's rollout and time, a credential's subject). The schema is created and
/// migrated at start (<see cref="Migrations"/>, recorded in <c>schema_migrations</c>, under an advisory lock so that
/// replicas starting together migrate once). Every write is committed when the call returns; a command's read, change
/// and save is one transaction holding the row's lock.
/// </summary>
public sealed class PostgresFleetStore : IFleetStore
{
    /// <summary>The schema, in order; a migration once shipped is never edited, only followed by another.</summary>
    internal static readonly string[] Migrations =
    [
        """
        CREATE TABLE devices (id text PRIMARY KEY, json jsonb NOT NULL);
        CREATE TABLE credentials (hash text PRIMARY KEY, subject text NOT NULL, json jsonb NOT NULL);
        CREATE INDEX credentials_subject ON credentials (subject);
        CREATE TABLE packages (key text PRIMARY KEY, json jsonb NOT NULL);
        CREATE TABLE rollouts (id text PRIMARY KEY, json jsonb NOT NULL);
        CREATE TABLE commands (id text PRIMARY KEY, device text NOT NULL, final boolean NOT NULL, created_at timestamptz NOT NULL, json jsonb NOT NULL);
        CREATE INDEX commands_device ON commands (device, created_at);
        CREATE INDEX commands_open ON commands (created_at) WHERE NOT final;
        CREATE TABLE events (seq bigserial PRIMARY KEY, rollout text NOT NULL, at timestamptz NOT NULL, json jsonb NOT NULL);
        CREATE INDEX events_rollout ON events (rollout, at, seq);
        CREATE TABLE trust (id text PRIMARY KEY, json jsonb NOT NULL);
        """,
        """
        CREATE TABLE history (device text NOT NULL, kind smallint NOT NULL, received_at timestamptz NOT NULL, seq bigserial, json jsonb NOT NULL) PARTITION BY RANGE (received_at);
        CREATE TABLE history_default PARTITION OF history DEFAULT;
        CREATE INDEX history_device ON history (device, kind, received_at, seq);
        """,
        """
        ALTER TABLE commands ADD COLUMN lease_until timestamptz, ADD COLUMN last_activity timestamptz, ADD COLUMN expires_at timestamptz;
        UPDATE commands SET lease_until = (json->>'lease_until')::timestamptz, last_activity = (json->>'last_activity')::timestamptz,
            expires_at = (json->'message'->>'expires_at')::timestamptz;
        """,
        """
        CREATE TABLE rollout_devices (rollout text NOT NULL, device text NOT NULL, stage integer NOT NULL, state text NOT NULL, command text NOT NULL,
            previous_version text, json jsonb NOT NULL, PRIMARY KEY (rollout, device));
        INSERT INTO rollout_devices (rollout, device, stage, state, command, previous_version, json)
            SELECT r.id, a.key, coalesce((a.value->>'stage')::integer, 0), 'pending', coalesce(a.value->>'command_id', ''), a.value->>'previous_version',
                   a.value || jsonb_build_object('rollout_id', r.id, 'device_id', a.key, 'state', 'pending')
            FROM rollouts r, jsonb_each(coalesce(r.json->'assignments', '{}'::jsonb)) a;
        UPDATE rollouts SET json = json - 'assignments' WHERE json ? 'assignments';
        """,
    ];

    private const long MigrationLock = 0x65646765666C7431; // "edgeflt1"
    private const long LeaderLock = 0x65646765666C7432; // "edgeflt2"
    private const long RolloutLock = 0x65646765666C7433; // "edgeflt3"
    private readonly NpgsqlDataSource _source;

    public PostgresFleetStore(string connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _source = new NpgsqlSlimDataSourceBuilder(ConnectionString(connection)).EnableArrays().Build();
        Migrate();
    }

    /// <summary>A <c>postgres://user:password@host:port/database?k=v</c> URL as an Npgsql connection string; anything else passes as it is.</summary>
    public static string ConnectionString(string connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!connection.StartsWith("postgres://", StringComparison.Ordinal) && !connection.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return connection;
        }

        var url = new Uri(connection);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.Port > 0 ? url.Port : 5432,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')),
        };
        if (url.UserInfo.Split(':', 2) is [var user, ..] userInfo && user.Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user);
            builder.Password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : null;
        }

        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
            builder[Uri.UnescapeDataString(key)] = Uri.UnescapeDataString(value);
        }

        return builder.ConnectionString;
    }

    public DeviceRecord? GetDevice(string id) => Get("SELECT json::text FROM devices WHERE id = $1", id, FleetJsonContext.Default.DeviceRecord);

    public IReadOnlyList<DeviceRecord> ListDevices() => List("SELECT json::text FROM devices ORDER BY id", null, FleetJsonContext.Default.DeviceRecord);

    public void SaveDevice(DeviceRecord device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Execute("INSERT INTO devices (id, json) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET json = excluded.json", device.Id, Json(device, FleetJsonContext.Default.DeviceRecord));
    }

    public DeviceRecord UpdateDevice(string id, Action<DeviceRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var connection = _source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        // Created first if new, so that two replicas creating it at once both wait on the same row's lock.
        using (var create = new NpgsqlCommand("INSERT INTO devices (id, json) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO NOTHING", connection, transaction))
        {
            create.Parameters.Add(new NpgsqlParameter { Value = id });
            create.Parameters.Add(new NpgsqlParameter { Value = Json(new DeviceRecord { Id = id }, FleetJsonContext.Default.DeviceRecord) });
            create.ExecuteNonQuery();
        }

        DeviceRecord device;
        using (var select = new NpgsqlCommand("SELECT json::text FROM devices WHERE id = $1 FOR UPDATE", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = id });
            device = JsonSerializer.Deserialize((string)select.ExecuteScalar()!, FleetJsonContext.Default.DeviceRecord)!;
        }

        change(device);
        using (var update = new NpgsqlCommand("UPDATE devices SET json = $2::jsonb WHERE id = $1", connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            update.Parameters.Add(new NpgsqlParameter { Value = Json(device, FleetJsonContext.Default.DeviceRecord) });
            update.ExecuteNonQuery();
        }

        transaction.Commit();
        return device;
    }

    public CredentialRecord? FindCredential(string hash) => Get("SELECT json::text FROM credentials WHERE hash = $1", hash, FleetJsonContext.Default.CredentialRecord);

    public void SaveCredential(CredentialRecord credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        Execute("INSERT INTO credentials (hash, subject, json) VALUES ($1, $2, $3::jsonb) ON CONFLICT (hash) DO UPDATE SET subject = excluded.subject, json = excluded.json",
            credential.Hash, credential.Role + ":" + credential.Subject, Json(credential, FleetJsonContext.Default.CredentialRecord));
    }

    public void DeleteCredentials(string role, string subject) => Execute("DELETE FROM credentials WHERE subject = $1", role + ":" + subject);

    public PackageRecord? GetPackage(string name, string version) => Get("SELECT json::text FROM packages WHERE key = $1", $"{name}@{version}", FleetJsonContext.Default.PackageRecord);

    public IReadOnlyList<PackageRecord> ListPackages() => List("SELECT json::text FROM packages ORDER BY key", null, FleetJsonContext.Default.PackageRecord);

    public void SavePackage(PackageRecord package)
    {
        ArgumentNullException.ThrowIfNull(package);
        Execute("INSERT INTO packages (key, json) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET json = excluded.json", package.Key, Json(package, FleetJsonContext.Default.PackageRecord));
    }

    public RolloutRecord? GetRollout(string id) => Get("SELECT json::text FROM rollouts WHERE id = $1", id, FleetJsonContext.Default.RolloutRecord);

    public IReadOnlyList<RolloutRecord> ListRollouts() => List("SELECT json::text FROM rollouts ORDER BY id", null, FleetJsonContext.Default.RolloutRecord);

    public void SaveRollout(RolloutRecord rollout)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        Execute("INSERT INTO rollouts (id, json) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET json = excluded.json", rollout.Id, Json(rollout, FleetJsonContext.Default.RolloutRecord));
    }

    public IReadOnlyList<RolloutAssignment> ListAssignments(string rolloutId) =>
        List("SELECT json::text FROM rollout_devices WHERE rollout = $1 ORDER BY stage, device", rolloutId, FleetJsonContext.Default.RolloutAssignment);

    public void SaveAssignment(RolloutAssignment assignment, CommandRecord? command = null)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        using var connection = _source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var upsert = new NpgsqlCommand(
            "INSERT INTO rollout_devices (rollout, device, stage, state, command, previous_version, json) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) "
            + "ON CONFLICT (rollout, device) DO UPDATE SET stage = excluded.stage, state = excluded.state, command = excluded.command, "
            + "previous_version = excluded.previous_version, json = excluded.json", connection, transaction))
        {
            upsert.Parameters.Add(new NpgsqlParameter { Value = assignment.RolloutId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = assignment.DeviceId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = assignment.Stage });
            upsert.Parameters.Add(new NpgsqlParameter { Value = assignment.State.WireName() });
            upsert.Parameters.Add(new NpgsqlParameter { Value = assignment.CommandId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = (object?)assignment.PreviousVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            upsert.Parameters.Add(new NpgsqlParameter { Value = Json(assignment, FleetJsonContext.Default.RolloutAssignment) });
            upsert.ExecuteNonQuery();
        }

        if (command is not null)
        {
            Upsert(connection, transaction, command);
        }

        transaction.Commit();
    }

    public void AddEvent(RolloutEvent entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var command = _source.CreateCommand("INSERT INTO events (rollout, at, json) VALUES ($1, $2, $3::jsonb)");
        command.Parameters.Add(new NpgsqlParameter { Value = entry.RolloutId });
        command.Parameters.Add(new NpgsqlParameter { Value = entry.At.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = Json(entry, FleetJsonContext.Default.RolloutEvent) });
        command.ExecuteNonQuery();
    }

    public IReadOnlyList<RolloutEvent> ListEvents(string rolloutId) =>
        List("SELECT json::text FROM events WHERE rollout = $1 ORDER BY at, seq", rolloutId, FleetJsonContext.Default.RolloutEvent);

    public CommandRecord? GetCommand(string id) => Get("SELECT json::text FROM commands WHERE id = $1", id, FleetJsonContext.Default.CommandRecord);

    public IReadOnlyList<CommandRecord> ListCommands(string? deviceId) => deviceId is null
        ? List("SELECT json::text FROM commands ORDER BY created_at, id", null, FleetJsonContext.Default.CommandRecord)
        : List("SELECT json::text FROM commands WHERE device = $1 ORDER BY created_at, id", deviceId, FleetJsonContext.Default.CommandRecord);

    public IReadOnlyList<CommandRecord> GetCommands(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        using var command = _source.CreateCommand("SELECT json::text FROM commands WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var records = new List<CommandRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(JsonSerializer.Deserialize(reader.GetString(0), FleetJsonContext.Default.CommandRecord)!);
        }

        return records;
    }

    public IReadOnlyList<CommandRecord> ListOpenCommands() =>
        List("SELECT json::text FROM commands WHERE NOT final ORDER BY created_at, id", null, FleetJsonContext.Default.CommandRecord);

    public void SaveCommand(CommandRecord command)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var connection = _source.OpenConnection();
        Upsert(connection, null, command);
    }

    public IReadOnlyList<CommandRecord> ClaimDueCommands(DateTimeOffset now, TimeSpan silence, TimeSpan lease, int limit)
    {
        // One statement: the due rows are locked as they are picked, and rows another replica is claiming are skipped,
        // so concurrent claims never return the same command.
        using var command = _source.CreateCommand(
            """
            UPDATE commands c SET lease_until = $2, json = jsonb_set(c.json, '{lease_until}', to_jsonb($3::text))
            FROM (SELECT o.id FROM commands o JOIN devices d ON d.id = o.device
                  WHERE NOT o.final AND (o.expires_at IS NULL OR o.expires_at > $1) AND (o.lease_until IS NULL OR o.lease_until <= $1)
                    AND (o.last_activity IS NULL OR o.last_activity <= $1 - $4::interval) AND (d.json->>'online')::boolean
                  ORDER BY o.created_at, o.id LIMIT $5 FOR UPDATE OF o SKIP LOCKED) due
            WHERE c.id = due.id
            RETURNING c.json::text
            """);
        var until = now + lease;
        command.Parameters.Add(new NpgsqlParameter { Value = now.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = until.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = until.ToString("O", System.Globalization.CultureInfo.InvariantCulture) });
        command.Parameters.Add(new NpgsqlParameter { Value = silence, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var claimed = new List<CommandRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            claimed.Add(JsonSerializer.Deserialize(reader.GetString(0), FleetJsonContext.Default.CommandRecord)!);
        }

        claimed.Sort((a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : string.CompareOrdinal(a.Id, b.Id));
        return claimed;
    }

    public IReadOnlyList<string> ListExpiredCommands(DateTimeOffset now)
    {
        using var command = _source.CreateCommand("SELECT id FROM commands WHERE NOT final AND expires_at <= $1 ORDER BY created_at, id");
        command.Parameters.Add(new NpgsqlParameter { Value = now.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var ids = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public bool UpdateCommand(string id, Func<CommandRecord, bool> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var connection = _source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        CommandRecord? command;
        using (var select = new NpgsqlCommand("SELECT json::text FROM commands WHERE id = $1 FOR UPDATE", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = id });
            command = select.ExecuteScalar() is string json ? JsonSerializer.Deserialize(json, FleetJsonContext.Default.CommandRecord) : null;
        }

        if (command is null || !change(command))
        {
            transaction.Rollback();
            return false;
        }

        Upsert(connection, transaction, command);
        transaction.Commit();
        return true;
    }

    public SignedTrust? GetTrust() => Get("SELECT json::text FROM trust WHERE id = $1", "current", FleetJsonContext.Default.SignedTrust);

    public void SaveTrust(SignedTrust trust) =>
        Execute("INSERT INTO trust (id, json) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET json = excluded.json", "current", Json(trust, FleetJsonContext.Default.SignedTrust));

    public IDisposable LockRollouts() => PostgresAdvisoryLock.Acquire(_source, RolloutLock);

    public ILeadershipLease? TryLead() => PostgresAdvisoryLock.TryAcquire(_source, LeaderLock);

    /// <summary>The store's connections, for what shares its database (the change bus, the telemetry history).</summary>
    public NpgsqlDataSource DataSource => _source;

    public void Dispose() => _source.Dispose();

    private static string Json<T>(T record, JsonTypeInfo<T> type) => JsonSerializer.Serialize(record, type);

    private static void Upsert(NpgsqlConnection connection, NpgsqlTransaction? transaction, CommandRecord command)
    {
        using var upsert = new NpgsqlCommand(
            "INSERT INTO commands (id, device, final, created_at, json, lease_until, last_activity, expires_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) "
            + "ON CONFLICT (id) DO UPDATE SET device = excluded.device, final = excluded.final, json = excluded.json, "
            + "lease_until = excluded.lease_until, last_activity = excluded.last_activity, expires_at = excluded.expires_at", connection, transaction);
        upsert.Parameters.Add(new NpgsqlParameter { Value = command.Id });
        upsert.Parameters.Add(new NpgsqlParameter { Value = command.DeviceId });
        upsert.Parameters.Add(new NpgsqlParameter { Value = command.Final });
        upsert.Parameters.Add(new NpgsqlParameter { Value = command.CreatedAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        upsert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(command, FleetJsonContext.Default.CommandRecord) });
        foreach (var moment in new[] { command.LeaseUntil, command.LastActivity, command.Message.ExpiresAt })
        {
            upsert.Parameters.Add(new NpgsqlParameter { Value = moment is { } at ? at.ToUniversalTime() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        }

        upsert.ExecuteNonQuery();
    }

    private void Migrate()
    {
        using var connection = _source.OpenConnection();
        using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLock})", connection))
        {
            lockCommand.ExecuteNonQuery();
        }

        try
        {
            using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", connection))
            {
                create.ExecuteNonQuery();
            }

            int applied;
            using (var current = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_migrations", connection))
            {
                applied = Convert.ToInt32(current.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            }

            for (var version = applied + 1; version <= Migrations.Length; version++)
            {
                using var transaction = connection.BeginTransaction();
                using (var migrate = new NpgsqlCommand(Migrations[version - 1], connection, transaction))
                {
                    migrate.ExecuteNonQuery();
                }

                using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version) VALUES ($1)", connection, transaction))
                {
                    record.Parameters.Add(new NpgsqlParameter { Value = version });
                    record.ExecuteNonQuery();
                }

                transaction.Commit();
            }
        }
        finally
        {
            using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLock})", connection);
            unlock.ExecuteNonQuery();
        }
    }

    private T? Get<T>(string sql, string key, JsonTypeInfo<T> type)
        where T : class
    {
        using var command = _source.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        return command.ExecuteScalar() is string json ? JsonSerializer.Deserialize(json, type) : null;
    }

    private List<T> List<T>(string sql, string? key, JsonTypeInfo<T> type)
    {
        using var command = _source.CreateCommand(sql);
        if (key is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = key });
        }

        var records = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(JsonSerializer.Deserialize(reader.GetString(0), type)!);
        }

        return records;
    }

    private void Execute(string sql, params string[] values)
    {
        using var command = _source.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        command.ExecuteNonQuery();
    }
}
