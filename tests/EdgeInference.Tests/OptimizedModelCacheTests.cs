using System.Text.Json.Nodes;
using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>The agent's cache of ONNX Runtime's optimized models (<c>&lt;data&gt;/ortcache</c>), across real restarts.</summary>
public sealed class OptimizedModelCacheTests : IDisposable
{
    private readonly string _models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 4), null));
    private readonly string _data = TestPaths.NewTempDirectory("ortcache-data");

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task TheFirstLoadSavesTheOptimizedModel_ARestartLoadsIt_AndATornEntryIsReplaced_AllWithTheSameOutputs()
    {
        byte[] first;
        await using (var agent = await AgentHost.StartAsync(_models, _data))
        {
            first = await OutputAsync(agent);
            Assert.Contains(await NotesAsync(agent), n => n.StartsWith("optimized model saved to the cache", StringComparison.Ordinal));
        }

        var entry = Assert.Single(Directory.GetFiles(Path.Combine(_data, "ortcache")));
        Assert.Matches(@"/mlp-1-[0-9a-f]{24}\.ort$", entry);
        await using (var restarted = await AgentHost.StartAsync(_models, _data))
        {
            Assert.Contains(await NotesAsync(restarted), n => n.StartsWith("loaded from the optimized-model cache", StringComparison.Ordinal));
            Assert.Equal(first, await OutputAsync(restarted));
        }

        // As a power cut mid-write would leave it: ONNX Runtime refuses it, and the model loads from its own file.
        await File.WriteAllBytesAsync(entry, [1, 2, 3]);
        await using (var repaired = await AgentHost.StartAsync(_models, _data))
        {
            Assert.Contains(await NotesAsync(repaired), n => n.StartsWith("the optimized-model cache entry could not be loaded and was replaced", StringComparison.Ordinal));
            Assert.Equal(first, await OutputAsync(repaired));
        }

        Assert.True(new FileInfo(entry).Length > 3, "the torn entry was not saved again");
    }

    [Fact]
    public async Task ANewFileForTheSameVersion_MissesTheCache_AndTakesOverItsEntry()
    {
        byte[] before;
        await using (var agent = await AgentHost.StartAsync(_models, _data))
        {
            before = await OutputAsync(agent);
        }

        var old = Assert.Single(Directory.GetFiles(Path.Combine(_data, "ortcache")));
        await File.WriteAllBytesAsync(Path.Combine(_models, "mlp", "1", "model.onnx"), GeneratedModels.Mlp(seed: 5));
        await using (var agent = await AgentHost.StartAsync(_models, _data))
        {
            Assert.Contains(await NotesAsync(agent), n => n.StartsWith("optimized model saved to the cache", StringComparison.Ordinal));
            Assert.NotEqual(before, await OutputAsync(agent));
        }

        Assert.NotEqual(old, Assert.Single(Directory.GetFiles(Path.Combine(_data, "ortcache"))));
    }

    [Fact]
    public async Task WithTheCacheTurnedOff_NothingIsSavedOrSaid()
    {
        await using var agent = await AgentHost.StartAsync(_models, _data, "--Agent:OptimizedModelCache=false");
        await OutputAsync(agent);

        Assert.False(Directory.Exists(Path.Combine(_data, "ortcache")));
        Assert.DoesNotContain(await NotesAsync(agent), n => n.Contains("cache", StringComparison.Ordinal));
    }

    private static async Task<byte[]> OutputAsync(AgentHost agent) =>
        (await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(seed: 1)]))[0].Data;

    private static async Task<IReadOnlyList<string>> NotesAsync(AgentHost agent) =>
        JsonNode.Parse(await agent.Http.GetStringAsync(new Uri("/v2/models/mlp", UriKind.Relative)))!["notes"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [];
}
