using System.Globalization;
using System.Text.Json;
using EdgeInference.Contracts;
using Npgsql;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// The telemetry and drift history in PostgreSQL: table <c>history</c>, partitioned by day on the time the fleet
/// received each window (<c>history_YYYYMMDD</c>, made ahead by <see cref="Maintain"/>, which also drops the days
/// past the retention; a default partition catches anything else), indexed by device. Every replica writes the
/// windows it handles and reads them all.
/// </summary>
public sealed class PostgresTelemetryHistory : ITelemetryHistory
{
    private const short TelemetryKind = 0;
    private const short DriftKind = 1;
    private const long MaintenanceLock = 0x65646765666C7434; // "edgeflt4"
    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _time;

    public PostgresTelemetryHistory(NpgsqlDataSource source, TimeProvider time)
    {
        _source = source;
        _time = time;
    }

    public void Add(TelemetryMessage telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        Insert(telemetry.DeviceId, TelemetryKind, JsonSerializer.Serialize(telemetry, ContractJsonContext.Default.TelemetryMessage));
    }

    public void Add(DriftMessage drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        Insert(drift.DeviceId, DriftKind, JsonSerializer.Serialize(drift, ContractJsonContext.Default.DriftMessage));
    }

    public DeviceHistory Get(string deviceId)
    {
        using var connection = _source.OpenConnection();
        return new DeviceHistory
        {
            Telemetry = Read(connection, deviceId, TelemetryKind).Select(j => JsonSerializer.Deserialize(j, ContractJsonContext.Default.TelemetryMessage)!).ToList(),
            Drift = Read(connection, deviceId, DriftKind).Select(j => JsonSerializer.Deserialize(j, ContractJsonContext.Default.DriftMessage)!).ToList(),
        };
    }

    /// <summary>
    /// Makes the partitions of today and the next two days (UTC), and drops the days before the one
    /// <paramref name="retention"/> ago; one replica at a time. Returns the partitions dropped.
    /// </summary>
    public IReadOnlyList<string> Maintain(TimeSpan retention)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        using var connection = _source.OpenConnection();
        Execute(connection, $"SELECT pg_advisory_lock({MaintenanceLock})");
        try
        {
            for (var day = now.Date; day <= now.Date.AddDays(2); day = day.AddDays(1))
            {
                try
                {
                    Execute(connection, $"CREATE TABLE IF NOT EXISTS {Partition(day)} PARTITION OF history FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')");
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
                {
                    // The default partition already holds windows of that day (maintenance stopped for days): they
                    // stay there, still read, and go when the default partition is emptied by hand.
                }
            }

            var oldest = Partition((now - retention).Date);
            var dropped = new List<string>();
            using (var list = new NpgsqlCommand(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'history' AND c.relname ~ '^history_[0-9]{8}$' ORDER BY c.relname",
                connection))
            using (var reader = list.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (string.CompareOrdinal(reader.GetString(0), oldest) < 0)
                    {
                        dropped.Add(reader.GetString(0));
                    }
                }
            }

            foreach (var partition in dropped)
            {
                Execute(connection, $"DROP TABLE IF EXISTS {partition}");
            }

            return dropped;
        }
        finally
        {
            Execute(connection, $"SELECT pg_advisory_unlock({MaintenanceLock})");
        }
    }

    private static string Partition(DateTime day) => "history_" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private void Insert(string deviceId, short kind, string json)
    {
        using var connection = _source.OpenConnection();
        using var insert = new NpgsqlCommand("INSERT INTO history (device, kind, received_at, json) VALUES ($1, $2, $3, $4::jsonb)", connection)
        {
            Parameters = { new() { Value = deviceId }, new() { Value = kind }, new() { Value = _time.GetUtcNow().UtcDateTime }, new() { Value = json } },
        };
        insert.ExecuteNonQuery();
    }

    private static List<string> Read(NpgsqlConnection connection, string deviceId, short kind)
    {
        using var select = new NpgsqlCommand(
            "SELECT json::text FROM (SELECT json, received_at, seq FROM history WHERE device = $1 AND kind = $2 ORDER BY received_at DESC, seq DESC LIMIT $3) recent ORDER BY received_at, seq",
            connection)
        {
            Parameters = { new() { Value = deviceId }, new() { Value = kind }, new() { Value = TelemetryHistory.WindowsKept } },
        };
        using var reader = select.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
