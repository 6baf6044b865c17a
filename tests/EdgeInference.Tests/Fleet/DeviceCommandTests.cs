using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>Remote commands from the fleet API to a real agent: each has an id and a reply.</summary>
public sealed class DeviceCommandTests
{
    [Fact]
    public async Task Commands_ReloadCollectLogsAndAnUnsupportedOne_EachGetTheirReply()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var model = OnnxModelBuilder.Mlp(8, [16], seed: 1);
        var v1 = bed.BuildPackage("scorer", "1.0.0", model, goldenFrom: model, bed.Key);
        await bed.StartAgentsAsync(1, v1, _ => []);
        var device = FleetTestbed.DeviceId(0);
        async Task<JsonNode> SendAsync(string command)
        {
            var sent = await bed.Fleet.SendAsync(HttpMethod.Post, $"devices/{device}/commands", new JsonObject { ["command"] = command });
            var id = sent!["id"]!.GetValue<string>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (true)
            {
                var record = await bed.Fleet.SendAsync(HttpMethod.Get, $"commands/{id}", null);
                if (record!["final"]!.GetValue<bool>())
                {
                    return record["replies"]!.AsArray()[^1]!;
                }

                Assert.True(DateTime.UtcNow < deadline, $"no final reply to {command}: {record.ToJsonString()}");
                await Task.Delay(50);
            }
        }

        Assert.Equal("succeeded", (await SendAsync("reload"))["state"]!.GetValue<string>());
        var unsupported = await SendAsync("configure");
        Assert.Equal("rejected", unsupported["state"]!.GetValue<string>());
        Assert.Equal("unsupported", unsupported["reason"]!.GetValue<string>());

        var logs = await SendAsync("collect_logs");
        Assert.Equal("succeeded", logs["state"]!.GetValue<string>());
        Assert.Contains(logs["lines"]!.AsArray(), l => l!.GetValue<string>().Contains("rejected (unsupported)", StringComparison.Ordinal));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => bed.Fleet.SendAsync(HttpMethod.Post, $"devices/{device}/commands", new JsonObject { ["command"] = "deploy" }));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
    }
}
