using System.Text;
using System.Text.Json.Nodes;
using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>TF Serving's v1 REST API, row and columnar forms, answers as bare ONNX Runtime does.</summary>
public sealed class TfServingTests : IClassFixture<SampleModelAgentFixture>
{
    private readonly AgentHost _agent;

    public TfServingTests(SampleModelAgentFixture fixture) => _agent = fixture.Agent;

    [Fact]
    public async Task Predict_InstancesForm_ReturnsOnePredictionPerInstance()
    {
        using var reference = new BareOrt(SampleInputs.ModelPath("embedding"));
        var first = SampleInputs.For("embedding", reference, seed: 1)[0];
        var second = SampleInputs.For("embedding", reference, seed: 2)[0];
        var body = new JsonObject { ["instances"] = new JsonArray(Nested(first, 1), Nested(second, 1)) };

        var predictions = (await PostAsync("/v1/models/embedding:predict", body))["predictions"]!.AsArray();

        Assert.Equal(2, predictions.Count);
        Assert.Equal(reference.Run([first])[0].AsFloats(), Flatten(predictions[0]!));
        Assert.Equal(reference.Run([second])[0].AsFloats(), Flatten(predictions[1]!));
    }

    [Fact]
    public async Task Predict_ColumnarFormWithNamedInputs_ReturnsEveryOutputByName()
    {
        using var reference = new BareOrt(SampleInputs.ModelPath("silero_vad"));
        var inputs = SampleInputs.For("silero_vad", reference);
        var expected = reference.Run(inputs);
        var columns = new JsonObject();
        foreach (var input in inputs)
        {
            columns[input.Name] = input.Name == "sr" ? 16000 : Nested(input, 0);
        }

        var outputs = (await PostAsync("/v1/models/silero_vad/versions/1:predict", new JsonObject { ["inputs"] = columns }))["outputs"]!;

        foreach (var output in expected)
        {
            Assert.Equal(output.AsFloats(), Flatten(outputs[output.Name]!));
        }
    }

    [Fact]
    public async Task ModelStatus_ReportsTheAvailableVersion()
    {
        var status = JsonNode.Parse(await _agent.Http.GetStringAsync("/v1/models/hey_jarvis"))!["model_version_status"]![0]!;
        Assert.Equal("1", status["version"]!.GetValue<string>());
        Assert.Equal("AVAILABLE", status["state"]!.GetValue<string>());
        Assert.Equal("OK", status["status"]!["error_code"]!.GetValue<string>());
    }

    private async Task<JsonNode> PostAsync(string path, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _agent.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }

    /// <summary>The tensor as nested JSON arrays, skipping the first <paramref name="skip"/> dimensions (of size 1).</summary>
    private static JsonNode Nested(NamedTensor tensor, int skip)
    {
        var values = tensor.AsFloats();
        var index = 0;
        JsonNode Build(int dim) => dim == tensor.Shape.Length
            ? values[index++]
            : new JsonArray(Enumerable.Range(0, (int)tensor.Shape[dim]).Select(_ => Build(dim + 1)).ToArray());
        return Build(skip);
    }

    private static float[] Flatten(JsonNode node) => node is JsonArray array
        ? array.SelectMany(n => Flatten(n!)).ToArray()
        : [node.GetValue<float>()];
}
