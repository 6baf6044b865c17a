using EdgeInference.Fleet.Store;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>The store contract against LiteDB, the one-process default.</summary>
public sealed class LiteDbFleetStoreTests : FleetStoreContractTests, IDisposable
{
    private readonly string _folder = TestPaths.NewTempDirectory("store-litedb");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    protected override Task<IFleetStore> OpenAsync() => Task.FromResult(Reopen());

    protected override IFleetStore Reopen() => new LiteDbFleetStore(Path.Combine(_folder, "fleet.db"));
}
