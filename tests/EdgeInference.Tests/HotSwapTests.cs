using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>New versions are loaded, warmed and switched to under load without a failed request; removed ones unload.</summary>
public sealed class HotSwapTests
{
    [Fact]
    public async Task NewVersionUnderLoad_SwitchesWithZeroFailedRequests_AndServesTheNewAnswers()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 1), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var inputs = new[] { GeneratedModels.Features(seed: 5) };
            var body = V2Client.JsonRequest(inputs);
            var failures = new ConcurrentBag<string>();
            var answers = new ConcurrentDictionary<string, float>();
            var byVersion = new ConcurrentDictionary<string, int>();
            using var stop = new CancellationTokenSource();

            var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var content = new StringContent(body, Encoding.UTF8, "application/json");
                    using var response = await agent.Http.PostAsync("/v2/models/mlp/infer", content);
                    var text = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        failures.Add($"{(int)response.StatusCode}: {text}");
                        continue;
                    }

                    var json = JsonNode.Parse(text)!;
                    var version = json["model_version"]!.GetValue<string>();
                    byVersion.AddOrUpdate(version, 1, (_, n) => n + 1);
                    answers[version] = json["outputs"]![0]!["data"]![0]!.GetValue<float>();
                }
            })).ToArray();

            await AgentHost.WaitUntilAsync(() => byVersion.GetValueOrDefault("1") > 50, TimeSpan.FromSeconds(30), "version 1 under load");
            // Install version 2 atomically: stage beside the model, then rename into place.
            var staging = Path.Combine(models, "mlp", ".staging-2");
            Testing.Onnx.OnnxModelBuilder.Write(staging, GeneratedModels.Mlp(seed: 2));
            Directory.Move(staging, Path.Combine(models, "mlp", "2"));
            await AgentHost.WaitUntilAsync(() => byVersion.GetValueOrDefault("2") > 50, TimeSpan.FromSeconds(30), "version 2 under load");
            var servedByTwo = byVersion.GetValueOrDefault("2");
            var servedByOneBefore = byVersion.GetValueOrDefault("1");
            await AgentHost.WaitUntilAsync(() => byVersion.GetValueOrDefault("2") > servedByTwo + 50, TimeSpan.FromSeconds(30), "more of version 2");
            await stop.CancelAsync();
            await Task.WhenAll(load);

            Assert.Empty(failures);
            Assert.True(byVersion.GetValueOrDefault("1") - servedByOneBefore < 16, "version 1 kept answering after the switch");
            using var v1 = new BareOrt(Path.Combine(models, "mlp", "1", "model.onnx"));
            using var v2 = new BareOrt(Path.Combine(models, "mlp", "2", "model.onnx"));
            Assert.Equal(v1.Run(inputs)[0].AsFloats()[0], answers["1"]);
            Assert.Equal(v2.Run(inputs)[0].AsFloats()[0], answers["2"]);
            Assert.NotEqual(answers["1"], answers["2"]);

            // The replaced version was unloaded (the default policy serves the latest version only).
            using var old = await agent.Http.GetAsync("/v2/models/mlp/versions/1/ready");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, old.StatusCode);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task RemovedVersionDirectory_IsUnloaded_WhileTheOtherVersionServes()
    {
        const string All = """{ "version_policy": { "all": true } }""";
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 1), All), ("mlp", 2, GeneratedModels.Mlp(seed: 2), All));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var inputs = new[] { GeneratedModels.Features(seed: 9) };
            await V2Client.InferJsonAsync(agent.Http, "mlp", inputs, version: "1");
            await V2Client.InferJsonAsync(agent.Http, "mlp", inputs, version: "2");

            Directory.Delete(Path.Combine(models, "mlp", "1"), recursive: true);
            await AgentHost.WaitUntilAsync(() => agent.Models.Find("mlp")!.Versions.Count == 1, TimeSpan.FromSeconds(10), "version 1 to unload");

            var error = await Assert.ThrowsAsync<HttpRequestException>(() => V2Client.InferJsonAsync(agent.Http, "mlp", inputs, version: "1"));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
            await V2Client.InferJsonAsync(agent.Http, "mlp", inputs, version: "2");
            Assert.DoesNotContain("model=\"mlp\",version=\"1\"", await agent.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task BrokenNewVersion_NeverReplacesTheServingOne()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 1), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            Testing.Onnx.OnnxModelBuilder.Write(Path.Combine(models, "mlp", "2"), Encoding.UTF8.GetBytes("truncated"));
            await AgentHost.WaitUntilAsync(() => agent.Models.Find("mlp")!.Versions.Any(v => v.Version == 2), TimeSpan.FromSeconds(10), "version 2 to be tried");

            var outputs = await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(seed: 1)]);
            Assert.Single(outputs);
            var metadata = JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/mlp/versions/2"))!;
            Assert.Equal("FAILED", metadata["state"]!.GetValue<string>());
            Assert.Equal(["1"], metadata["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }
}
