using System.Text.Json.Nodes;
using EdgeInference.Fleet.Cli;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Spectre.Console;

namespace EdgeInference.Tests.Fleet;

/// <summary><c>edgefleet</c> driving a real fleet and real agents end to end, and its errors and exit codes.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Cli_GeneratesAKey_PushesSignedModels_EnrollsAndTagsDevices_AndWatchesARolloutComplete()
    {
        var root = TestPaths.NewTempDirectory("cli");
        await using var fleet = await FleetHost.StartAsync(Path.Combine(root, "fleet"));
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };

        var (code, output) = await RunAsync(env, "keys", "generate", "--out", Path.Combine(root, "keys"), "--name", "ops", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        var keyId = JsonNode.Parse(output)!["key_id"]!.GetValue<string>();
        var trusted = Path.Combine(root, "trusted");
        Directory.CreateDirectory(trusted);
        File.Copy(Path.Combine(root, "keys", "ops.pub.pem"), Path.Combine(trusted, "ops.pub.pem"));

        var v1 = Path.Combine(root, "v1.onnx");
        var v2 = Path.Combine(root, "v2.onnx");
        await File.WriteAllBytesAsync(v1, OnnxModelBuilder.Mlp(8, [16], seed: 1));
        await File.WriteAllBytesAsync(v2, OnnxModelBuilder.Mlp(8, [16], seed: 2));
        var golden = Path.Combine(root, "golden.json");
        await File.WriteAllBytesAsync(golden, FleetTestbed.GoldenVectors(await File.ReadAllBytesAsync(v2), 2));
        foreach (var (file, version, extra) in new[] { (v1, "1.0.0", Array.Empty<string>()), (v2, "2.0.0", new[] { "--golden", golden }) })
        {
            (code, output) = await RunAsync(env, ["models", "push", file, "--name", "scorer", "--version", version, "--sign-key", Path.Combine(root, "keys", "ops.key.pem"), .. extra]);
            Assert.True(code == ExitCodes.Ok, output);
        }

        (code, output) = await RunAsync(env, "models", "show", "scorer@2.0.0", "--json");
        Assert.Equal(keyId, JsonNode.Parse(output)!["signed"]!["signature"]!["key_id"]!.GetValue<string>());
        Assert.Equal("FP32", JsonNode.Parse(output)!["manifest"]!["inputs"]![0]!["datatype"]!.GetValue<string>());

        var agents = new List<AgentHost>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var id = $"cli-{i}";
                (code, output) = await RunAsync(env, "devices", "enroll", id, "--json");
                Assert.Equal(ExitCodes.Ok, code);
                var secret = JsonNode.Parse(output)!["secret"]!.GetValue<string>();
                (code, _) = await RunAsync(env, "devices", "tag", id, "ring=beta", "site=lab");
                Assert.Equal(ExitCodes.Ok, code);
                var models = Path.Combine(root, id, "models");
                Directory.CreateDirectory(models);
                agents.Add(await AgentHost.StartAsync(models, Path.Combine(root, id, "data"), fleet.AgentArguments(id, secret, trusted)));
            }

            await AgentHost.WaitUntilAsync(() => fleet.Store.ListDevices().Count(d => d.Online) == 2, TimeSpan.FromSeconds(30), "both agents online");

            // First v1 to both at once, then v2 in two stages, each followed live to the end.
            foreach (var (model, stages) in new[] { ("scorer@1.0.0", "100%"), ("scorer@2.0.0", "1,100%") })
            {
                (code, output) = await RunAsync(env, "rollouts", "start", "--model", model, "--target", "ring=beta", "--stages", stages, "--soak", "1s", "--json");
                Assert.True(code == ExitCodes.Ok, output);
                var id = JsonNode.Parse(output)!["rollout"]!["id"]!.GetValue<string>();
                (code, output) = await RunAsync(env, "rollouts", "status", id, "--watch", "--interval", "0.2");
                Assert.True(code == ExitCodes.Ok, output);
                Assert.Contains("completed", output, StringComparison.Ordinal);
            }

            (code, output) = await RunAsync(env, "devices", "list", "--json");
            Assert.Equal(ExitCodes.Ok, code);
            foreach (var device in JsonNode.Parse(output)!.AsArray())
            {
                var serving = device!["models"]!.AsArray().Single(m => m!["state"]!.GetValue<string>() == "READY");
                Assert.Equal("2.0.0", serving!["package_version"]!.GetValue<string>());
            }

            (code, output) = await RunAsync(env, "devices", "list");
            Assert.Contains("cli-0", output, StringComparison.Ordinal);
            Assert.Contains("ring=beta", output, StringComparison.Ordinal);

            (code, output) = await RunAsync(env, "devices", "revoke", "cli-1");
            Assert.True(code == ExitCodes.Ok, output);
            Assert.Contains("Revoked cli-1", output, StringComparison.Ordinal);
            Assert.False(fleet.Store.GetDevice("cli-1")!.Enrolled);
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Cli_WithBadArgumentsOrAnswers_ExitsWithTheMeaningfulCodeAndSaysWhy()
    {
        await using var fleet = await FleetHost.StartAsync();
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };

        var (code, output) = await RunAsync(env, "models", "push", "missing.onnx", "--name", "m");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--version", output, StringComparison.Ordinal);

        (code, output) = await RunAsync(env, "rollouts", "status", "no-such-rollout");
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Contains("no-such-rollout", output, StringComparison.Ordinal);

        (code, output) = await RunAsync(env, "devices", "revoke", "no-such-device");
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Contains("no-such-device", output, StringComparison.Ordinal);

        (code, output) = await RunAsync(env, "rollouts", "start", "--model", "scorer@9.9.9", "--stages", "1,200%");
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("200%", output, StringComparison.Ordinal);

        (code, output) = await RunAsync(env, "rollouts", "start", "--model", "scorer@9.9.9");
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Contains("push it first", output, StringComparison.Ordinal);

        (code, output) = await RunAsync(new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = "wrong" }, "devices", "list");
        Assert.Equal(ExitCodes.Unauthorized, code);
        Assert.Contains("not known", output, StringComparison.Ordinal);

        (code, output) = await RunAsync(new Dictionary<string, string> { ["EDGEFLEET_URL"] = $"http://127.0.0.1:{FreePort.Next()}" }, "devices", "list");
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("cannot reach", output, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Output)> RunAsync(Dictionary<string, string> env, params string[] args) => CliRunner.RunAsync(env, args);

    private static Task<(int Code, string Output)> RunAsync(Dictionary<string, string> env, IEnumerable<string> args) => CliRunner.RunAsync(env, args);
}
