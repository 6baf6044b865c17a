using EdgeInference.Fleet.Store;

namespace EdgeInference.Tests.Fleet;

/// <summary>The store contract against a real PostgreSQL server, plus what only a database shared by replicas needs: migrations that run once, atomic device changes, one leader, one rollout pass at a time.</summary>
public sealed class PostgresFleetStoreTests : FleetStoreContractTests, IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _postgres;
    private string _connection = "";

    public PostgresFleetStoreTests(PostgresFixture postgres) => _postgres = postgres;

    [Fact]
    public async Task ReplicasStartingTogether_MigrateTheSchemaOnce()
    {
        _connection = await _postgres.Server.CreateDatabaseAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new PostgresFleetStore(_connection))));
        try
        {
            stores[0].SaveDevice(new DeviceRecord { Id = "pi-01" });
            Assert.All(stores, s => Assert.NotNull(s.GetDevice("pi-01")));
        }
        finally
        {
            foreach (var store in stores)
            {
                store.Dispose();
            }
        }

        await using var connection = new Npgsql.NpgsqlConnection(_connection);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM schema_migrations", connection);
        Assert.Equal((long)PostgresFleetStore.Migrations.Length, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task TwoReplicas_ChangingTheSameDevice_LoseNoneOfEachOthersChanges()
    {
        _connection = await _postgres.Server.CreateDatabaseAsync();
        using var a = new PostgresFleetStore(_connection);
        using var b = new PostgresFleetStore(_connection);
        // One replica counts telemetry while the other applies status: before UpdateDevice, each read-change-save
        // overwrote the other's work.
        await Task.WhenAll(
            Task.Run(() => Repeat(100, () => a.UpdateDevice("pi-01", d => d.Stats["scorer@1.0.0"] = new VersionStats { Requests = (d.Stats.GetValueOrDefault("scorer@1.0.0")?.Requests ?? 0) + 1 }))),
            Task.Run(() => Repeat(100, () => b.UpdateDevice("pi-01", d => d.TrustVersion++))));

        var device = a.GetDevice("pi-01")!;
        Assert.Equal(100, device.Stats["scorer@1.0.0"].Requests);
        Assert.Equal(100, device.TrustVersion);
    }

    [Fact]
    public async Task OneReplicaLeads_AndWhenItLetsGoTheOtherTakesOver()
    {
        _connection = await _postgres.Server.CreateDatabaseAsync();
        using var a = new PostgresFleetStore(_connection);
        using var b = new PostgresFleetStore(_connection);

        var lease = a.TryLead();
        Assert.NotNull(lease);
        Assert.True(lease.StillHeld());
        Assert.Null(b.TryLead());
        lease.Dispose();

        using var next = b.TryLead();
        Assert.NotNull(next);
        Assert.Null(a.TryLead());
    }

    [Fact]
    public async Task ALeaderWhoseConnectionIsCut_KnowsItNoLongerLeads_AndTheOtherTakesOver()
    {
        _connection = await _postgres.Server.CreateDatabaseAsync();
        using var a = new PostgresFleetStore(_connection);
        using var b = new PostgresFleetStore(_connection);
        using var lease = a.TryLead()!;

        // As when the leader's machine or network dies: the server ends its session, and with it the lock.
        await using (var admin = new Npgsql.NpgsqlConnection(_connection))
        {
            await admin.OpenAsync();
            await using var kill = new Npgsql.NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()", admin);
            await kill.ExecuteNonQueryAsync();
        }

        Assert.False(lease.StillHeld());
        using var next = b.TryLead();
        Assert.NotNull(next);
    }

    [Fact]
    public async Task TheRolloutLock_LetsOneReplicaIn_AtATime()
    {
        _connection = await _postgres.Server.CreateDatabaseAsync();
        using var a = new PostgresFleetStore(_connection);
        using var b = new PostgresFleetStore(_connection);
        var inside = 0;
        var most = 0;
        await Task.WhenAll(new[] { a, b, a, b }.Select(store => Task.Run(() =>
        {
            for (var i = 0; i < 20; i++)
            {
                using var held = store.LockRollouts();
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                Thread.Sleep(1);
                Interlocked.Decrement(ref inside);
            }
        })));

        Assert.Equal(1, most);
    }

    private static void Repeat(int times, Action action)
    {
        for (var i = 0; i < times; i++)
        {
            action();
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Theory]
    [InlineData("postgres://fleet:s%40cret@db.example:6543/edge?SSL%20Mode=Require", "Host=db.example;Port=6543;Database=edge;Username=fleet;Password=s@cret;SSL Mode=Require")]
    [InlineData("postgresql://db/edge", "Host=db;Port=5432;Database=edge")]
    [InlineData("Host=x;Database=y", "Host=x;Database=y")]
    public void AStoreUrl_BecomesAnNpgsqlConnectionString(string url, string expected) =>
        Assert.Equal(new Npgsql.NpgsqlConnectionStringBuilder(expected), new Npgsql.NpgsqlConnectionStringBuilder(PostgresFleetStore.ConnectionString(url)));

    protected override async Task<IFleetStore> OpenAsync()
    {
        _connection = await _postgres.Server.CreateDatabaseAsync();
        return Reopen();
    }

    protected override IFleetStore Reopen() => new PostgresFleetStore(_connection);

    protected override async Task<IFleetStore> OpenWrittenBeforeRowsAsync(string rolloutId, string rolloutJson)
    {
        // The schema as the first three migrations left it (rollout_devices is the fourth), with a rollout in it.
        _connection = await _postgres.Server.CreateDatabaseAsync();
        await using var connection = new Npgsql.NpgsqlConnection(_connection);
        await connection.OpenAsync();
        var schema = string.Join('\n', PostgresFleetStore.Migrations.Take(3))
            + "\nCREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
            + "\nINSERT INTO schema_migrations (version) VALUES (1), (2), (3);";
        await using (var migrate = new Npgsql.NpgsqlCommand(schema, connection))
        {
            await migrate.ExecuteNonQueryAsync();
        }

        await using var command = new Npgsql.NpgsqlCommand("INSERT INTO rollouts (id, json) VALUES ($1, $2::jsonb)", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = rolloutId });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = rolloutJson });
        await command.ExecuteNonQueryAsync();
        return Reopen();
    }
}
