using EdgeInference.Fleet.Store;
using EdgeInference.Storage;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>The store contract against LiteDB, the one-process default.</summary>
public sealed class LiteDbFleetStoreTests : FleetStoreContractTests, IDisposable
{
    private readonly string _folder = TestPaths.NewTempDirectory("store-litedb");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    protected override Task<IFleetStore> OpenAsync() => Task.FromResult(Reopen());

    protected override IFleetStore Reopen() => new LiteDbFleetStore(Path.Combine(_folder, "fleet.db"));

    protected override Task<IFleetStore> OpenWrittenBeforeRowsAsync(string rolloutId, string rolloutJson)
    {
        using (var database = DurableLiteDatabase.Open(Path.Combine(_folder, "fleet.db")))
        {
            database.GetCollection("rollouts").Insert(new LiteDB.BsonDocument { ["_id"] = rolloutId, ["json"] = rolloutJson });
            DurableLiteDatabase.Commit(database);
        }

        return Task.FromResult(Reopen());
    }
}
