using System.Text.Json.Nodes;
using EdgeInference.Agent.Hosting;
using EdgeInference.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeInference.Tests;

/// <summary>The prediction cache, model config errors, and the default device config.</summary>
public sealed class CacheAndConfigTests
{
    [Fact]
    public async Task Cache_SameInputTwice_AnswersTheSecondFromCacheAndCountsTheHit()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 4), """{ "cache": { "enabled": true, "max_entries": 2 } }"""));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var first = await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(seed: 1)]);
            var again = await V2Client.InferGrpcAsync(agent.Grpc, "mlp", [GeneratedModels.Features(seed: 1)]);
            var other = await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(seed: 2)]);

            Assert.Equal(first[0].Data, again[0].Data);
            Assert.NotEqual(first[0].Data, other[0].Data);
            var metrics = await agent.Http.GetStringAsync("/metrics");
            Assert.Equal(1, SampleModelOutputTests.MetricValue(metrics, "edge_model_cache_hits_total{model=\"mlp\",version=\"1\"}"));
            Assert.Equal(2, SampleModelOutputTests.MetricValue(metrics, "edge_model_cache_misses_total{model=\"mlp\",version=\"1\"}"));
            Assert.True(JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/mlp"))!["cache"]!.GetValue<bool>());
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task Metadata_OfAModelWithThreadsConfigured_SaysItHasItsOwnPool()
    {
        var models = GeneratedModels.Repository(("pinned", 1, GeneratedModels.Mlp(seed: 6), """{ "threads": { "intra_op": 1 } }"""));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var pinned = JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/pinned"))!;

            Assert.Equal("own pool", pinned["threading"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task ModelConfig_WithAnUnknownSetting_IsReportedByName_AndServedOnceFixed()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 4), """{ "batching": { "max_batch_sise": 8 } }"""));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var metadata = JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/mlp"))!;
            Assert.Contains("max_batch_sise", metadata["config_error"]!.GetValue<string>(), StringComparison.Ordinal);
            using var ready = await agent.Http.GetAsync("/v2/models/mlp/ready");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);

            // Fixing the file is picked up at the next poll, and the model serves.
            await File.WriteAllTextAsync(Path.Combine(models, "mlp", "config.json"), """{ "batching": { "max_batch_size": 8 } }""");
            await AgentHost.WaitUntilAsync(() => agent.Models.Find("mlp")!.Latest is not null, TimeSpan.FromSeconds(10), "the fixed config to load");
            Assert.True(JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/mlp"))!["batching"]!.GetValue<bool>());
            await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(seed: 1)]);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task DefaultDeviceConfig_IsValidAndTheCommandLineOverridesIt()
    {
        var config = Path.Combine(TestPaths.RepositoryRoot, "device-images", "config", "agent.json");
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 4), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models, null, "--config", config);
            var options = agent.App.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            Assert.Equal(models, options.Models);
            Assert.Equal(100_000, options.PredictionLog.MaxRecords);
            Assert.Equal(TimeSpan.FromSeconds(20), options.ShutdownTimeout);
            await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(seed: 1)]);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task DropInSettings_OverrideTheDeviceConfigInNameOrder_AndTheCommandLineOverridesThemAll()
    {
        var config = Path.Combine(TestPaths.RepositoryRoot, "device-images", "config", "agent.json");
        var dropIns = TestPaths.NewTempDirectory("agent.d");
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 4), null));
        try
        {
            // Written out of order: name order decides, and files that are not *.json (the package's .keep) are not read.
            await File.WriteAllTextAsync(Path.Combine(dropIns, "90-local.json"), """{ "Agent": { "PredictionLog": { "MaxRecords": 700 } } }""");
            await File.WriteAllTextAsync(Path.Combine(dropIns, "50-fleet.json"), """{ "Agent": { "PredictionLog": { "MaxRecords": 500 }, "ShutdownTimeout": "00:00:07" } }""");
            await File.WriteAllTextAsync(Path.Combine(dropIns, ".keep"), "not json");
            await File.WriteAllTextAsync(Path.Combine(dropIns, "notes.txt"), "{ not json");

            await using var agent = await AgentHost.StartAsync(models, null, "--config", config, "--config", dropIns, "--poll-interval", "00:00:03");
            var options = agent.App.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            Assert.Equal(700, options.PredictionLog.MaxRecords);
            Assert.Equal(TimeSpan.FromSeconds(7), options.ShutdownTimeout);
            Assert.Equal(0.01, options.PredictionLog.InputSampleRate); // agent.json's, untouched by the drop-ins
            Assert.Equal(TimeSpan.FromSeconds(3), options.PollInterval); // agent.json says 2 s; the command line wins
            Assert.Equal(
                [config, Path.Combine(dropIns, "50-fleet.json"), Path.Combine(dropIns, "90-local.json")],
                agent.App.Services.GetRequiredService<ConfigFiles>().Loaded);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
            Directory.Delete(dropIns, recursive: true);
        }
    }

    [Fact]
    public async Task AMissingOrMalformedConfigFile_StopsTheAgentWithAMessageNamingIt()
    {
        var dropIns = TestPaths.NewTempDirectory("agent.d");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dropIns, "50-fleet.json"), "{\n  \"Mqtt\": { \"Url\": \"mqtts://fleet:8883\" \n  \"DeviceId\": \"pi-01\" }\n}");
            await File.WriteAllTextAsync(Path.Combine(dropIns, "60-twice.json"), """{ "Mqtt": { "Url": "mqtt://a" }, "mqtt": { "url": "mqtt://b" } }""");
            await File.WriteAllTextAsync(Path.Combine(dropIns, "70-list.json"), """[ "Mqtt" ]""");
            var missing = Path.Combine(dropIns, "agent.json");
            var port = FreePort.Next();
            using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), ["--config", missing, "--config", dropIns, "--urls", $"http://127.0.0.1:{port}"], port);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (!agent.HasExited)
            {
                await Task.Delay(20, timeout.Token);
            }

            Assert.Equal(2, agent.ExitCode);
            Assert.Contains($"--config '{missing}': there is no such file or folder", agent.Output, StringComparison.Ordinal);
            Assert.Contains($"--config '{Path.Combine(dropIns, "50-fleet.json")}': not valid JSON at line 3, byte 3", agent.Output, StringComparison.Ordinal);
            Assert.Contains($"--config '{Path.Combine(dropIns, "60-twice.json")}': a setting is given twice", agent.Output, StringComparison.Ordinal);
            Assert.Contains($"--config '{Path.Combine(dropIns, "70-list.json")}': settings must be a JSON object, not array", agent.Output, StringComparison.Ordinal);
            Assert.Contains("--models (Agent:Models) is required", agent.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", agent.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dropIns, recursive: true);
        }
    }

    [Fact]
    public async Task AgentWithBadSettings_StopsWithAMessageNamingEachOne()
    {
        var port = FreePort.Next();
        using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"),
            ["--urls", $"ftp://127.0.0.1:{port}", "--poll-interval", "00:00:00.001"], port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!agent.HasExited)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.Equal(2, agent.ExitCode);
        Assert.Contains("--models (Agent:Models) is required", agent.Output, StringComparison.Ordinal);
        Assert.Contains("--data (Agent:Data) is required", agent.Output, StringComparison.Ordinal);
        Assert.Contains("'ftp://127.0.0.1", agent.Output, StringComparison.Ordinal);
        Assert.Contains("Agent:PollInterval must be at least 10 ms", agent.Output, StringComparison.Ordinal);
    }
}
