using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Grpc.Core;

namespace EdgeInference.Tests;

/// <summary>Bad requests get a 4xx JSON error naming the problem, and the agent keeps serving.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const string GoodJarvis = """{"inputs":[{"name":"x.1","datatype":"FP32","shape":[1,16,96],"data":[DATA]}]}""";
    private string _models = "";
    private AgentHost _agent = null!;

    public async Task InitializeAsync()
    {
        _models = TestPaths.CopySampleModels("hey_jarvis");
        OnnxModelBuilder.Write(Path.Combine(_models, "broken", "1"), Encoding.UTF8.GetBytes("this is not an ONNX model"));
        _agent = await AgentHost.StartAsync(_models, null, "--max-body", "65536");
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public async Task Infer_UnknownModel_Returns404NamingTheModel() =>
        await AssertErrorAsync("/v2/models/nope/infer", Jarvis(1536), HttpStatusCode.NotFound, "model 'nope' is not in the repository");

    [Fact]
    public async Task Infer_UnknownVersion_Returns404NamingTheVersion() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/versions/7/infer", Jarvis(1536), HttpStatusCode.NotFound, "model 'hey_jarvis' has no version 7");

    [Fact]
    public async Task Infer_WithWrongInputName_Returns400NamingTheInput() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("x.1", "audio", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "model 'hey_jarvis' has no input 'audio'; its inputs are x.1");

    [Fact]
    public async Task Infer_WithWrongDatatype_Returns400NamingTheDatatypes() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("FP32", "INT64", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' has datatype INT64 but the model expects FP32");

    [Fact]
    public async Task Infer_WithWrongShape_Returns400NamingTheInput() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("[1,16,96]", "[1,96,16]", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' has shape [1,96,16] but the model expects [1,16,96]");

    [Fact]
    public async Task Infer_WithWrongElementCount_Returns400NamingBothCounts() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1535), HttpStatusCode.BadRequest,
            "input 'x.1' has 1535 elements but shape [1,16,96] needs 1536");

    [Fact]
    public async Task Infer_WithAStringWhereANumberBelongs_Returns400NamingTheElement() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("[0.5,", "[\"loud\",", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' element 0 is a string, not a valid FP32 value");

    [Fact]
    public async Task Infer_WithMalformedJson_Returns400SayingWhere() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", "{\"inputs\": [ {\"name\": ", HttpStatusCode.BadRequest, "malformed JSON:");

    [Fact]
    public async Task Infer_WithBodyOverTheLimit_Returns413NamingTheLimit() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536) + new string(' ', 70_000), HttpStatusCode.RequestEntityTooLarge,
            "is over the limit of 65536 bytes");

    [Fact]
    public async Task Infer_BinaryWithSizeBeyondTheBody_Returns400()
    {
        var header = """{"inputs":[{"name":"x.1","datatype":"FP32","shape":[1,16,96],"parameters":{"binary_data_size":6144}}]}""";
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(header).Concat(new byte[100]).ToArray());
        content.Headers.Add("Inference-Header-Content-Length", Encoding.UTF8.GetByteCount(header).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await _agent.Http.PostAsync("/v2/models/hey_jarvis/infer", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("binary_data_size 6144, more than the 100 bytes left", await ErrorOf(response), StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Grpc_WithWrongShape_ReturnsInvalidArgumentNamingTheInput()
    {
        var inputs = new[] { NamedTensor.Floats("x.1", [1, 8, 96], new float[768]) };
        var error = await Assert.ThrowsAsync<RpcException>(() => V2Client.InferGrpcAsync(_agent.Grpc, "hey_jarvis", inputs));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("input 'x.1' has shape [1,8,96] but the model expects [1,16,96]", error.Status.Detail, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<RpcException>(() => V2Client.InferGrpcAsync(_agent.Grpc, "nope", inputs));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Grpc_WithAShapeWhoseElementCountWraps_ReturnsInvalidArgumentNamingTheInput(bool raw)
    {
        // 16 × 2⁶⁰ is 2⁶⁴: unchecked, the count wraps to 0 and the request was answered "needs 0 elements".
        var inputs = new[] { NamedTensor.Floats("x.1", [16, 1152921504606846976], new float[4]) };
        var error = await Assert.ThrowsAsync<RpcException>(() => V2Client.InferGrpcAsync(_agent.Grpc, "hey_jarvis", inputs, raw));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("input 'x.1' has shape [16,1152921504606846976], more than 2147483647 elements", error.Status.Detail, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Grpc_WithAShapeLargerThanItsData_ReturnsInvalidArgumentBeforeAllocatingIt(bool raw)
    {
        var inputs = new[] { NamedTensor.Floats("x.1", [1, 100_000_000, 16], new float[4]) };
        var error = await Assert.ThrowsAsync<RpcException>(() => V2Client.InferGrpcAsync(_agent.Grpc, "hey_jarvis", inputs, raw));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("input 'x.1' has shape [1,100000000,16] of 1600000000 elements, more than its data can hold (4)", error.Status.Detail, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Grpc_WithRankOverEight_ReturnsInvalidArgumentNamingTheInput()
    {
        var inputs = new[] { NamedTensor.Floats("x.1", [1, 1, 1, 1, 1, 1, 1, 1, 1], new float[1]) };
        var error = await Assert.ThrowsAsync<RpcException>(() => V2Client.InferGrpcAsync(_agent.Grpc, "hey_jarvis", inputs));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("input 'x.1' has rank 9; at most 8 is supported", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_WithANegativeDimension_Returns400NamingTheInput() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("[1,16,96]", "[-1,-16,96]", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' has a negative dimension in shape [-1,-16,96]");

    [Fact]
    public async Task Infer_WithRankOverEight_Returns400NamingTheInput() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("[1,16,96]", "[1,1,1,1,1,1,1,16,96]", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' has rank 9; at most 8 is supported");

    [Fact]
    public async Task Infer_WithAShapeWhoseElementCountWraps_Returns400NamingTheInput() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(1536).Replace("[1,16,96]", "[16,1152921504606846976]", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' has shape [16,1152921504606846976], more than 2147483647 elements");

    [Fact]
    public async Task Infer_WithAShapeLargerThanTheBody_Returns400BeforeAllocatingIt() =>
        await AssertErrorAsync("/v2/models/hey_jarvis/infer", Jarvis(4).Replace("[1,16,96]", "[1,1000000,16]", StringComparison.Ordinal), HttpStatusCode.BadRequest,
            "input 'x.1' has shape [1,1000000,16] of 16000000 elements, more than its data can hold");

    [Fact]
    public async Task BrokenModel_IsNotReadyWithOnnxRuntimesMessage_WhileTheOthersServe()
    {
        using var ready = await _agent.Http.GetAsync("/v2/models/broken/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("version 1: ", await ErrorOf(ready), StringComparison.Ordinal);

        var metadata = JsonNode.Parse(await _agent.Http.GetStringAsync("/v2/models/broken"))!;
        Assert.Equal("FAILED", metadata["state"]!.GetValue<string>());
        Assert.Contains("protobuf", metadata["error"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.False((await _agent.Grpc.ModelReadyAsync(new() { Name = "broken" })).Ready);
        Assert.Contains("edge_model_ready{model=\"broken\",version=\"1\"} 0", await _agent.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task TfServingPredict_WithRaggedInstances_Returns400NamingTheInstance()
    {
        var row = "[" + string.Join(",", Enumerable.Repeat("[" + string.Join(",", Enumerable.Repeat("0.5", 96)) + "]", 16)) + "]";
        var shortRow = "[" + string.Join(",", Enumerable.Repeat("[" + string.Join(",", Enumerable.Repeat("0.5", 96)) + "]", 15)) + "]";
        await AssertErrorAsync("/v1/models/hey_jarvis:predict", $$"""{"instances":[{{row}},{{shortRow}}]}""", HttpStatusCode.BadRequest,
            "instance 1 of input 'x.1' has shape [15,96] but instance 0 has [16,96]");
    }

    private static string Jarvis(int elements) =>
        GoodJarvis.Replace("DATA", string.Join(",", Enumerable.Repeat("0.5", elements)), StringComparison.Ordinal);

    private static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();
    }

    private async Task AssertErrorAsync(string path, string body, HttpStatusCode status, string message)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _agent.Http.PostAsync(path, content);
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, await ErrorOf(response), StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    private async Task AssertStillServesAsync()
    {
        var outputs = await V2Client.InferJsonAsync(_agent.Http, "hey_jarvis", [NamedTensor.Floats("x.1", [1, 16, 96], new float[1536])]);
        Assert.Equal(TensorDataType.Fp32, outputs[0].Type);
    }
}
