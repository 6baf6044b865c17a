using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>One 3-node RabbitMQ cluster and one PostgreSQL server for a test class (a cluster takes most of a minute to form).</summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    public RabbitMqCluster Cluster { get; private set; } = null!;

    public PostgresServer Postgres { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = PostgresServer.StartAsync();
        Cluster = await RabbitMqCluster.StartAsync(nodes: 3);
        Postgres = await postgres;
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
