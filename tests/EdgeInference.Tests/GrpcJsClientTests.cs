using System.Text.Json.Nodes;
using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>A third-party client, @grpc/grpc-js loading the v2 proto, gets bare ORT's answers over TCP and a Unix socket.</summary>
public sealed class GrpcJsClientTests
{
    [Fact]
    public async Task GrpcJs_ModelInferWithRawContents_OverTcp_EqualsBareOnnxRuntime()
    {
        var models = TestPaths.CopySampleModels("embedding");
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            await AssertNodeClientAsync($"127.0.0.1:{agent.GrpcPort}");
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task GrpcJs_ModelInferWithRawContents_OverUnixSocket_EqualsBareOnnxRuntime()
    {
        var models = TestPaths.CopySampleModels("embedding");
        var socket = Path.Combine(TestPaths.NewTempDirectory("sock"), "grpc.sock");
        try
        {
            await using var agent = await AgentHost.StartAsync(models, null, "--grpc", $"unix:{socket}");
            await AssertNodeClientAsync($"unix:{socket}");
        }
        finally
        {
            Directory.Delete(models, recursive: true);
            Directory.Delete(Path.GetDirectoryName(socket)!, recursive: true);
        }
    }

    private static async Task AssertNodeClientAsync(string address)
    {
        using var reference = new BareOrt(SampleInputs.ModelPath("embedding"));
        var inputs = SampleInputs.For("embedding", reference, seed: 5);
        var expected = reference.Run(inputs);
        var requestFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(requestFile, new JsonObject
        {
            ["model"] = "embedding",
            ["inputs"] = new JsonArray(inputs.Select(i => (JsonNode)new JsonObject
            {
                ["name"] = i.Name,
                ["datatype"] = "FP32",
                ["shape"] = new JsonArray(i.Shape.Select(d => (JsonNode)d).ToArray()),
                ["raw_base64"] = Convert.ToBase64String(i.Data),
            }).ToArray()),
        }.ToJsonString());

        var (exitCode, stdout, stderr) = await NodeScript.RunAsync(Path.Combine("grpc-js-client", "infer.js"), [address, requestFile], TimeSpan.FromSeconds(60));
        File.Delete(requestFile);
        Assert.True(exitCode == 0, $"node client failed: {stderr}");

        var result = JsonNode.Parse(stdout)!;
        Assert.Equal("edge-agent", result["server"]!.GetValue<string>());
        Assert.True(result["ready"]!.GetValue<bool>());
        var output = result["outputs"]![0]!;
        Assert.Equal(expected[0].Name, output["name"]!.GetValue<string>());
        Assert.Equal(expected[0].Shape, output["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
        Assert.Equal(expected[0].Data, Convert.FromBase64String(output["raw_base64"]!.GetValue<string>()));
    }
}
