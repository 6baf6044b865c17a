using EdgeInference.Contracts;
using EdgeInference.Fleet.Dashboard;
using EdgeInference.Fleet.Store;
using Microsoft.Extensions.Time.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>The charts' history in PostgreSQL: shared by replicas, kept across restarts, partitioned by day, trimmed to the retention.</summary>
public sealed class PostgresTelemetryHistoryTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _postgres;

    public PostgresTelemetryHistoryTests(PostgresFixture postgres) => _postgres = postgres;

    [Fact]
    public async Task WindowsWrittenByOneReplica_AreReadByAnother_AndAfterARestart_TheLatest720OldestFirst()
    {
        var connection = await _postgres.Server.CreateDatabaseAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
        using (var storeA = new PostgresFleetStore(connection))
        {
            var a = new PostgresTelemetryHistory(storeA.DataSource, time);
            a.Maintain(TimeSpan.FromDays(7));
            for (var i = 0; i < 730; i++)
            {
                a.Add(Telemetry("pi-01", i));
                time.Advance(TimeSpan.FromSeconds(5));
            }

            a.Add(new DriftMessage { DeviceId = "pi-01", Timestamp = time.GetUtcNow() });
            a.Add(Telemetry("pi-02", 0));
        }

        using var storeB = new PostgresFleetStore(connection);
        var b = new PostgresTelemetryHistory(storeB.DataSource, time);
        var history = b.Get("pi-01");

        Assert.Equal(TelemetryHistory.WindowsKept, history.Telemetry.Count);
        Assert.Equal(Enumerable.Range(10, 720).Select(i => (double)i), history.Telemetry.Select(t => t.WindowSeconds));
        Assert.Single(history.Drift);
        Assert.Single(b.Get("pi-02").Telemetry);
        Assert.Empty(b.Get("pi-03").Telemetry);
    }

    [Fact]
    public async Task Maintenance_MakesTheComingDaysPartitions_AndDropsTheDaysPastTheRetention()
    {
        var connection = await _postgres.Server.CreateDatabaseAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        using var store = new PostgresFleetStore(connection);
        var history = new PostgresTelemetryHistory(store.DataSource, time);
        var dropped = new List<string>();
        for (var day = 0; day < 10; day++)
        {
            dropped.AddRange(history.Maintain(TimeSpan.FromDays(7)));
            history.Add(Telemetry("pi-01", day));
            time.Advance(TimeSpan.FromDays(1));
        }

        // Now 11 November: 7 days back is 4 November, so 1 to 3 November have gone, each on the day it fell out.
        dropped.AddRange(history.Maintain(TimeSpan.FromDays(7)));
        Assert.Equal(["history_20261101", "history_20261102", "history_20261103"], dropped);
        Assert.Equal(Enumerable.Range(3, 7).Select(i => (double)i), history.Get("pi-01").Telemetry.Select(t => t.WindowSeconds));
        await using var sql = new Npgsql.NpgsqlConnection(connection);
        await sql.OpenAsync();
        await using var stray = new Npgsql.NpgsqlCommand("SELECT count(*) FROM history_default", sql);
        Assert.Equal(0L, await stray.ExecuteScalarAsync());
        await using var ahead = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_class WHERE relname IN ('history_20261111', 'history_20261112', 'history_20261113')", sql);
        Assert.Equal(3L, await ahead.ExecuteScalarAsync());
    }

    private static TelemetryMessage Telemetry(string device, int i) => new() { DeviceId = device, Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(i), WindowSeconds = i };
}
