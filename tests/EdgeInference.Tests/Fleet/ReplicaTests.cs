using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// Two fleet replicas as one would run them at scale: one PostgreSQL store, one external broker (mosquitto) whose
/// shared subscriptions split the devices' events between them, a shared data folder for package files and keys,
/// and real agents. One replica leads and plans rollouts; when it stops, the other takes over.
/// </summary>
public sealed class ReplicaTests : IClassFixture<PostgresFixture>
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);
    private readonly PostgresFixture _postgres;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public ReplicaTests(PostgresFixture postgres, Xunit.Abstractions.ITestOutputHelper output)
    {
        _postgres = postgres;
        _output = output;
    }

    [Fact]
    public async Task WhenTheLeadingReplicaStopsMidRollout_TheOtherTakesOverAndFinishes_SendingEachDeviceOneDeploy()
    {
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await _postgres.Server.CreateDatabaseAsync()).Database;
        await using var mosquitto = await MosquittoBroker.StartAsync();
        var portB = FreePort.Next();
        string[] replica =
        [
            "--store", $"postgres://postgres@127.0.0.1:{_postgres.Server.Port}/{database}", "--mqtt-url", mosquitto.Url,
            "--public-url", $"http://127.0.0.1:{portB}", "--Fleet:CommandTimeout=00:00:30",
        ];
        await using var bed = await FleetTestbed.StartAsync(replica);
        await using var b = await FleetHost.StartOnPortAsync(bed.Fleet.Data, portB, replica);
        Assert.True(bed.Fleet.IsLeader, "the replica started first leads");
        Assert.False(b.IsLeader, "the second replica waits");

        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", V1, V2);
        await bed.StartAgentsAsync(4, v1, i => [$"ring={(i == 0 ? "canary" : "main")}"]);

        // Started through the replica that does not lead: any replica takes operators' requests.
        var started = await b.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,50%,100%", ["soak"] = "4s" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        await AgentHost.WaitUntilAsync(
            () => bed.Fleet.Store.GetDevice(FleetTestbed.DeviceId(0))!.ServingVersion("scorer") == "2.0.0", TimeSpan.FromSeconds(60), "the canary on 2.0.0");

        var failedOver = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        await bed.FailOverAsync(b);
        await AgentHost.WaitUntilAsync(() => b.IsLeader, TimeSpan.FromSeconds(10), "the remaining replica leading");
        var takeover = clock.Elapsed;
        _output.WriteLine($"the second replica led {takeover.TotalSeconds:F2} s after the first began to stop");

        var done = await b.WaitForRolloutAsync(id, TimeSpan.FromSeconds(90), "completed", "paused", "rolled_back");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        var events = b.Store.ListEvents(id);
        Assert.Equal(["started", "advanced", "advanced", "completed"], events.Select(e => e.Kind));
        Assert.True(events[^1].At > failedOver, "the replica that took over finished the rollout");
        var deploys = b.Store.ListCommands(null).Where(c => c.Message.Command == CommandNames.Deploy).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(FleetTestbed.DeviceId), deploys.Select(c => c.DeviceId).Order());
        Assert.All(deploys, c => Assert.Equal((CommandState.Succeeded, 1), (c.State, c.Sends)));
        Assert.All(b.Store.ListDevices(), d => Assert.Equal("2.0.0", d.ServingVersion("scorer")));
        Assert.True(takeover < TimeSpan.FromSeconds(5), $"took over in {takeover.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task ADashboardOnOneReplica_HearsOfChangesMadeThroughTheOther()
    {
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await _postgres.Server.CreateDatabaseAsync()).Database;
        await using var mosquitto = await MosquittoBroker.StartAsync();
        string[] replica = ["--store", $"postgres://postgres@127.0.0.1:{_postgres.Server.Port}/{database}", "--mqtt-url", mosquitto.Url];
        await using var a = await FleetHost.StartAsync(null, replica);
        await using var b = await FleetHost.StartOnPortAsync(a.Data, FreePort.Next(), replica);
        foreach (var fleet in new[] { a, b })
        {
            await fleet.App.Services.GetRequiredService<EdgeInference.Fleet.Dashboard.ChangeBusListener>().WaitListeningAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{b.Url}/api/v1/events");
        request.Headers.Authorization = new("Bearer", FleetHost.OperatorToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("retry: 2000", await events.ReadLineAsync());
        Assert.Equal(": connected", await events.ReadLineAsync());

        // Made through replica A, heard on B's live feed: the enrollment, then a tag.
        var clock = Stopwatch.StartNew();
        await a.EnrollAsync("pi-live");
        await ReadUntilAsync(events, """{"kind":"device","id":"pi-live"}""");
        var heard = clock.Elapsed;
        await a.SendAsync(HttpMethod.Patch, "devices/pi-live/tags", new JsonObject { ["site"] = "lab" });
        await ReadUntilAsync(events, """{"kind":"device","id":"pi-live"}""");
        _output.WriteLine($"replica B's feed heard of A's change {heard.TotalMilliseconds:F0} ms after it was asked for");
        Assert.True(heard < TimeSpan.FromSeconds(2), $"heard after {heard}");

        // The device's telemetry, split between the replicas by the shared subscription: both charts show all of it.
        using var device = new MQTTnet.MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MQTTnet.MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mosquitto.Port).WithClientId("edge-agent-pi-live").Build());
        for (var i = 1; i <= 8; i++)
        {
            var telemetry = new TelemetryMessage { DeviceId = "pi-live", Timestamp = DateTimeOffset.UtcNow, WindowSeconds = i };
            await device.PublishAsync(new MQTTnet.MqttApplicationMessageBuilder().WithTopic(MqttTopics.Telemetry("pi-live"))
                .WithPayload(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractJsonContext.Default.TelemetryMessage))
                .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        var waited = Stopwatch.StartNew();
        foreach (var fleet in new[] { a, b })
        {
            while ((await fleet.SendAsync(HttpMethod.Get, "devices/pi-live/history", null))!["telemetry"]!.AsArray().Count < 8)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "all eight windows in each replica's chart within 10 s");
                await Task.Delay(100);
            }
        }

        var windows = (await b.SendAsync(HttpMethod.Get, "devices/pi-live/history", null))!["telemetry"]!.AsArray().Select(t => t!["window_seconds"]!.GetValue<double>());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], windows.Order());
    }

    /// <summary>Reads Server-Sent Events until one carries <paramref name="data"/>; fails after 10 s.</summary>
    private static async Task ReadUntilAsync(StreamReader events, string data)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await events.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "data: " + data)
            {
                return;
            }
        }

        Assert.Fail($"the feed ended before {data}");
    }
}
