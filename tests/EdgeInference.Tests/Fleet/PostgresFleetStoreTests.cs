using EdgeInference.Fleet.Store;

namespace EdgeInference.Tests.Fleet;

/// <summary>The store contract against a real PostgreSQL server, plus what only a shared database needs: migrations that run once.</summary>
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
}
