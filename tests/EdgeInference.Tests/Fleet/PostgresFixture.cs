using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>One PostgreSQL server for a test class; each test takes a database of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
