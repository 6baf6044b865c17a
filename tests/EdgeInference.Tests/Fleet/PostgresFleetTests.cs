using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>The whole fleet on PostgreSQL (<c>--store</c>): enrollment, packages, a staged rollout to real agents, and a restart that keeps it all.</summary>
public sealed class PostgresFleetTests : IClassFixture<PostgresFixture>
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);
    private readonly PostgresFixture _postgres;

    public PostgresFleetTests(PostgresFixture postgres) => _postgres = postgres;

    [Fact]
    public async Task AFleetOnPostgres_RollsOutToRealAgents_AndAfterARestartStillKnowsEverything()
    {
        var connection = await _postgres.Server.CreateDatabaseAsync();
        var url = $"postgres://postgres@127.0.0.1:{_postgres.Server.Port}/{new Npgsql.NpgsqlConnectionStringBuilder(connection).Database}";
        await using var bed = await FleetTestbed.StartAsync("--store", url);
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(3, v1, i => [$"ring={(i == 0 ? "canary" : "main")}"]);

        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,100%", ["soak"] = "1s" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        var done = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(90), "completed", "paused");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(bed.Fleet.Data, "fleet.db")), "the state went to LiteDB, not PostgreSQL");

        await bed.RestartFleetAsync();
        var store = bed.Fleet.Store;
        Assert.Equal(RolloutState.Completed, store.GetRollout(id)!.State);
        Assert.Equal(3, store.ListDevices().Count(d => d.Enrolled));
        Assert.All(store.ListDevices(), d => Assert.Equal("2.0.0", d.ServingVersion("scorer")));
        Assert.Equal(["started", "advanced", "completed"], store.ListEvents(id).Select(e => e.Kind));
        Assert.Equal(2, store.ListPackages().Count);
        Assert.Equal(3, store.ListCommands(null).Count(c => c.Message.Command == CommandNames.Deploy && c.State == CommandState.Succeeded));
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.ListDevices().Count(d => d.Online) == 3, TimeSpan.FromSeconds(30), "the agents back online with the restarted fleet");
    }
}
