using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>The states shared by the agent and the fleet are enums whose wire names are exactly the contract's (docs/mqtt/schemas).</summary>
public sealed class ContractStateTests
{
    [Fact]
    public void ReplyStatesAndUpdateSteps_AreWrittenAsTheSchemasEnums_InTheirOrder()
    {
        var reply = Schema("reply");
        Assert.Equal(Values(reply["properties"]!["state"]!), Enum.GetValues<ReplyState>().Select(s => s.WireName()));
        Assert.Equal(Values(reply["properties"]!["step"]!), Enum.GetValues<UpdateStep>().Select(s => s.WireName()));
        var status = Schema("status");
        Assert.Equal(Values(status["properties"]!["state"]!), Enum.GetValues<ConnectionState>().Select(s => s.WireName()));
        Assert.Equal(Values(status["properties"]!["updates"]!["items"]!["properties"]!["state"]!), Enum.GetValues<ReplyState>().Select(s => s.WireName()));
        Assert.Equal(Values(status["properties"]!["sensors"]!["items"]!["properties"]!["state"]!), Enum.GetValues<SensorState>().Select(s => s.WireName()));
        Assert.Equal(Values(Schema("telemetry")["properties"]!["sensors"]!["items"]!["properties"]!["state"]!), Enum.GetValues<SensorState>().Select(s => s.WireName()));
    }

    [Fact]
    public void AReplyWithAStateOrStepOutsideTheContract_IsNotReadAsOne()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"state":"exploded"}""", ContractJsonContext.Default.ReplyMessage));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"step":"Switch "}""", ContractJsonContext.Default.ReplyMessage));
        Assert.Equal(UpdateStep.Switch, JsonSerializer.Deserialize("""{"step":"switch"}""", ContractJsonContext.Default.ReplyMessage)!.Step);
    }

    [Fact]
    public void FleetStates_KeepTheirWireNames()
    {
        Assert.Equal(["running", "waiting_approval", "paused", "rolling_back", "rolled_back", "completed", "aborted"], Enum.GetValues<RolloutState>().Select(s => s.WireName()));
        Assert.Equal(["pending", "installing", "probation", "installed", "failed", "offline", "rolled_back", "benchmarking"], Enum.GetValues<InstallState>().Select(s => s.WireName()));
        Assert.Equal(CommandState.RolledBack, ReplyState.RolledBack.ToCommandState());
    }

    private static JsonNode Schema(string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "mqtt", "schemas", $"{name}.schema.json")))!;

    private static IEnumerable<string> Values(JsonNode property) => property["enum"]!.AsArray().Select(v => v!.GetValue<string>());
}
