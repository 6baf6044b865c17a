using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>Remote commands from the fleet API to a real agent: each has an id and a reply.</summary>
public sealed class DeviceCommandTests
{
    [Fact]
    public async Task Commands_ReloadCollectLogsAndABadConfigure_EachGetTheirReply()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var model = OnnxModelBuilder.Mlp(8, [16], seed: 1);
        var v1 = bed.BuildPackage("scorer", "1.0.0", model, goldenFrom: model, bed.Key);
        await bed.StartAgentsAsync(1, v1, _ => []);
        var device = FleetTestbed.DeviceId(0);

        Assert.Equal("succeeded", (await SendAsync(bed, device, new JsonObject { ["command"] = "reload" }))["state"]!.GetValue<string>());
        // The fleet cannot know which providers a device's runtime has; the device refuses one it does not know.
        var badConfigure = await SendAsync(bed, device, new JsonObject { ["command"] = "configure", ["configuration"] = new JsonObject { ["execution_providers"] = new JsonArray("TPU") } });
        Assert.Equal("rejected", badConfigure["state"]!.GetValue<string>());
        Assert.Equal("invalid_configuration", badConfigure["reason"]!.GetValue<string>());
        Assert.Contains("'TPU'", badConfigure["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var logs = await SendAsync(bed, device, new JsonObject { ["command"] = "collect_logs" });
        Assert.Equal("succeeded", logs["state"]!.GetValue<string>());
        Assert.Contains(logs["lines"]!.AsArray(), l => l!.GetValue<string>().Contains("rejected (invalid_configuration)", StringComparison.Ordinal));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => bed.Fleet.SendAsync(HttpMethod.Post, $"devices/{device}/commands", new JsonObject { ["command"] = "deploy" }));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        var outOfRange = await Assert.ThrowsAsync<HttpRequestException>(() => bed.Fleet.SendAsync(HttpMethod.Put, $"devices/{device}/configuration", new JsonObject { ["input_sample_rate"] = 2 }));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, outOfRange.StatusCode);
    }

    [Fact]
    public async Task Configure_ThroughTheFleet_IsAppliedLiveAcknowledgedAndKeptAcrossARestartOfTheAgent()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var model = OnnxModelBuilder.Mlp(8, [16], seed: 1);
        var v1 = bed.BuildPackage("scorer", "1.0.0", model, goldenFrom: model, bed.Key);
        const string device = "device-configured";
        var models = Path.Combine(bed.Root, device, "models");
        var data = Path.Combine(bed.Root, device, "data");
        v1.InstallAsFirstVersion(models);
        var arguments = bed.Fleet.AgentArguments(device, await bed.Fleet.EnrollAsync(device), bed.TrustedKeys);
        var agent = await AgentHost.StartAsync(models, data, arguments);
        try
        {
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(device)?.Online == true, TimeSpan.FromSeconds(30), "the device online");
            // The default preference: every provider before CPU that this runtime lacks is noted.
            Assert.NotEmpty(agent.Models.Find("scorer")!.Versions.Single().ExecutionProviderNotes);

            var sent = await bed.Fleet.SendAsync(HttpMethod.Put, $"devices/{device}/configuration", new JsonObject { ["telemetry_interval_seconds"] = 0.25, ["execution_providers"] = new JsonArray("CPU") });
            var reply = await ReplyAsync(bed, sent!["id"]!.GetValue<string>());
            Assert.Equal("succeeded", reply["state"]!.GetValue<string>());
            Assert.Equal(0.25, reply["configuration"]!["telemetry_interval_seconds"]!.GetValue<double>());

            // Acknowledged in the status, and applied: the model reloads with the new preference (CPU first: nothing to note) ...
            await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(device) is { ConfigurationPending: false, ReportedConfiguration.TelemetryIntervalSeconds: 0.25 }, TimeSpan.FromSeconds(20), "the configuration acknowledged");
            await AgentHost.WaitUntilAsync(() => agent.Models.Find("scorer")!.Versions is [{ ExecutionProviderNotes.Count: 0, State: EdgeInference.Runtime.Models.ModelVersionState.Ready }], TimeSpan.FromSeconds(20), "the model reloaded CPU-first");
            // ... and telemetry comes every quarter second instead of every second.
            var windows = new HashSet<DateTimeOffset>();
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (DateTime.UtcNow < until)
            {
                if (bed.Fleet.Store.GetDevice(device)?.LatestTelemetry?.Timestamp is { } at)
                {
                    windows.Add(at);
                }

                await Task.Delay(20);
            }

            Assert.True(windows.Count >= 7, $"{windows.Count} telemetry windows in 3 s");
        }
        finally
        {
            await agent.DisposeAsync();
        }

        // A restarted agent runs with what the fleet set, without being told again.
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(device)?.Online == false, TimeSpan.FromSeconds(20), "the device offline");
        await using var restarted = await AgentHost.StartAsync(models, data, arguments);
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(device) is { Online: true, ConfigurationPending: false }, TimeSpan.FromSeconds(30), "the restarted device reporting the configuration");
        Assert.Empty(restarted.Models.Find("scorer")!.Versions.Single().ExecutionProviderNotes);
        Assert.Single(bed.Fleet.Store.ListCommands(device), c => c.Message.Command == "configure");
    }

    private static async Task<JsonNode> SendAsync(FleetTestbed bed, string device, JsonObject command)
    {
        var sent = await bed.Fleet.SendAsync(HttpMethod.Post, $"devices/{device}/commands", command);
        return await ReplyAsync(bed, sent!["id"]!.GetValue<string>());
    }

    private static async Task<JsonNode> ReplyAsync(FleetTestbed bed, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var record = await bed.Fleet.SendAsync(HttpMethod.Get, $"commands/{id}", null);
            if (record!["final"]!.GetValue<bool>())
            {
                return record["replies"]!.AsArray()[^1]!;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no final reply to {id}: {record.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}
