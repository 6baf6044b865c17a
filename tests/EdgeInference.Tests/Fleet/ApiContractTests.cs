using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using EdgeInference.Fleet.Cli;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>The REST contract (<c>EdgeInference.Fleet.Api</c>): what the service answers is what the typed client reads, and what its OpenAPI document describes.</summary>
public sealed class ApiContractTests
{
    [Fact]
    public async Task TheTypedClient_ReadsWhatARealFleetAnswers_AndItsRefusalsCarryTheFleetsWords()
    {
        await using var fleet = await FleetHost.StartAsync();
        using var client = new FleetClient(fleet.Url, FleetHost.OperatorToken);

        var enrollment = await client.EnrollAsync("pi-01", CancellationToken.None);
        Assert.Equal(("pi-01", "pi-01"), (enrollment.DeviceId, enrollment.Username));
        Assert.StartsWith("mqtts://", enrollment.MqttUrl, StringComparison.Ordinal);
        Assert.Contains("BEGIN CERTIFICATE", enrollment.CaPem, StringComparison.Ordinal);
        var tagged = await client.TagAsync("pi-01", new() { ["site"] = "lab" }, CancellationToken.None);
        Assert.Equal("lab", tagged.Tags["site"]);
        Assert.True(tagged.Enrolled);

        var sent = await client.SendCommandAsync("pi-01", new CommandRequest { Command = CommandNames.Reload }, CancellationToken.None);
        Assert.Equal((CommandState.Pending, "pi-01", CommandNames.Reload), (sent.State, sent.DeviceId, sent.Message.Command));
        Assert.Equal(sent.Id, (await client.GetCommandAsync(sent.Id, CancellationToken.None)).Id);
        Assert.Equal(["pi-01"], (await client.ListDevicesAsync(CancellationToken.None)).Select(d => d.Id));
        Assert.Empty(await client.ListRolloutsAsync(CancellationToken.None));
        Assert.Equal("ok", (await client.HealthAsync(CancellationToken.None)).Status);

        var refused = await Assert.ThrowsAsync<FleetApiException>(() => client.StartRolloutAsync(new RolloutRequest { Model = "scorer", Version = "9.9.9" }, CancellationToken.None));
        Assert.Equal((404, "there is no package scorer 9.9.9; push it first"), (refused.Status, refused.Message));
        var missing = await Assert.ThrowsAsync<FleetApiException>(() => client.GetDeviceAsync("nobody", CancellationToken.None));
        Assert.Equal((404, "there is no device 'nobody'"), (missing.Status, missing.Message));
    }

    [Fact]
    public async Task TheOpenApiDocument_DescribesTheContractsRecords_NotTheStoresOwn()
    {
        await using var fleet = await FleetHost.StartAsync();
        var document = JsonNode.Parse(await fleet.Http.GetStringAsync(new Uri("/api/v1/openapi.json", UriKind.Relative)))!;
        var schemas = document["components"]!["schemas"]!.AsObject().Select(s => s.Key).ToHashSet(StringComparer.Ordinal);

        Assert.Superset(new HashSet<string>(["DeviceView", "CommandView", "PackageView", "RolloutView", "RolloutSummary", "RolloutDeviceView", "HealthView"], StringComparer.Ordinal), schemas);
        Assert.DoesNotContain(schemas, s => s.EndsWith("Record", StringComparison.Ordinal));
    }
}
