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
