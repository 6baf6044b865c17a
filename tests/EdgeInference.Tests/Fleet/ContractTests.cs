using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>The commands the fleet sends and the replies and status agents send back, checked by Ajv against docs/mqtt/schemas.</summary>
public sealed class ContractTests
{
    [Fact]
    public async Task CommandsRepliesAndUpdateStatus_FromARealDeployAndRollback_MatchTheirSchemas()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var v1Model = OnnxModelBuilder.Mlp(8, [16], seed: 1);
        var v2Model = OnnxModelBuilder.Mlp(8, [16], seed: 2);
        var (v1, _) = await bed.PushTwoVersionsAsync("scorer", v1Model, v2Model);
        await bed.StartAgentsAsync(1, v1, _ => []);
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "100%", ["soak"] = "0s", ["shadow_requests"] = 2, ["shadow_timeout"] = "1s",
            // No live traffic here, so the shadow agreement has no data: this rollout lets that pass (the default fails it).
            ["on_no_data"] = "pass", ["no_data_timeout"] = "0s" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "completed");
        await bed.Fleet.SendAsync(HttpMethod.Post, $"rollouts/{id}/rollback", null);
        await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "rolled_back");
        var device = FleetTestbed.DeviceId(0);
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(device)!.Updates.Count > 0, TimeSpan.FromSeconds(10), "the update in the status");
        await bed.Fleet.SendAsync(HttpMethod.Put, $"devices/{device}/configuration", new JsonObject
        {
            ["telemetry_interval_seconds"] = 5, ["drift_interval_seconds"] = 30, ["input_sample_rate"] = 0.5, ["execution_providers"] = new JsonArray("XNNPACK", "CPU"),
        });
        await AgentHost.WaitUntilAsync(
            () => bed.Fleet.Store.GetDevice(device) is { ConfigurationPending: false, ReportedConfiguration: not null } && bed.Fleet.Store.ListCommands(device).Any(c => c.Message.Command == "configure" && c.Final),
            TimeSpan.FromSeconds(20), "the configuration acknowledged by reply and status");

        var commands = bed.Fleet.Store.ListCommands(device);
        var payloads = new Dictionary<string, List<byte[]>>
        {
            ["command"] = commands.Select(c => JsonSerializer.SerializeToUtf8Bytes(c.Message, ContractJsonContext.Default.CommandMessage)).ToList(),
            ["reply"] = commands.SelectMany(c => c.Replies).Select(r => JsonSerializer.SerializeToUtf8Bytes(r, ContractJsonContext.Default.ReplyMessage)).ToList(),
            ["status"] = [JsonSerializer.SerializeToUtf8Bytes(new StatusMessage
            {
                DeviceId = device, Timestamp = DateTimeOffset.UtcNow, Models = bed.Fleet.Store.GetDevice(device)!.Models, Updates = bed.Fleet.Store.GetDevice(device)!.Updates,
                Configuration = bed.Fleet.Store.GetDevice(device)!.ReportedConfiguration,
            }, ContractJsonContext.Default.StatusMessage)],
        };
        Assert.Contains(commands, c => c.Message.Command == "deploy");
        Assert.Contains(commands, c => c.Message.Command == "rollback");
        Assert.Contains(commands, c => c.Message.Command == "configure");
        Assert.Contains(payloads["reply"], r => JsonNode.Parse(r)!["step"]?.GetValue<string>() == "download");
        Assert.Contains(payloads["reply"], r => JsonNode.Parse(r)!["step"]?.GetValue<string>() == "shadow");
        Assert.Contains(payloads["reply"], r => JsonNode.Parse(r)!["configuration"] is not null);

        foreach (var (kind, list) in payloads)
        {
            await SchemaCheck.AssertValidAsync(kind, list, broken => broken["schema_version"] = 99, "schema_version");
        }
    }
}
