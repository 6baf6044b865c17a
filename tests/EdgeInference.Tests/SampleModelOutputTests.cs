using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using Google.Protobuf;
using Grpc.Core;

namespace EdgeInference.Tests;

/// <summary>The agent's answers over every protocol are the bit-exact answers of ONNX Runtime run directly.</summary>
public sealed class SampleModelOutputTests : IClassFixture<SampleModelAgentFixture>
{
    private readonly AgentHost _agent;

    public SampleModelOutputTests(SampleModelAgentFixture fixture) => _agent = fixture.Agent;

    public static TheoryData<string> Models => new()
    {
        "melspectrogram", "embedding", "hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy", "timer", "weather", "silero_vad",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Infer_SampleModel_OverJsonBinaryAndGrpc_EqualsBareOnnxRuntime(string model)
    {
        using var reference = new BareOrt(SampleInputs.ModelPath(model));
        for (var seed = 1; seed <= 2; seed++)
        {
            var inputs = SampleInputs.For(model, reference, seed);
            var expected = reference.Run(inputs);

            AssertSame(expected, await V2Client.InferJsonAsync(_agent.Http, model, inputs), $"{model} JSON");
            AssertSame(expected, await V2Client.InferBinaryAsync(_agent.Http, model, inputs), $"{model} binary");
            AssertSame(expected, await V2Client.InferGrpcAsync(_agent.Grpc, model, inputs), $"{model} gRPC");
        }
    }

    [Fact]
    public async Task ModelInfer_HandEncodedWithUnpackedShapeFieldsOutOfOrderAndUnknownFields_EqualsBareOnnxRuntime()
    {
        // Encoded field by field with Google.Protobuf's CodedOutputStream, in ways the generated C# client never
        // writes but the protocol allows: raw contents before the inputs, the shape unpacked, an unknown field, the
        // model name last.
        using var reference = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
        var input = SampleInputs.For("hey_jarvis", reference, 3)[0];
        var expected = reference.Run([input]);
        var tensor = Encode(o =>
        {
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteInt64(input.Shape[0]);
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(input.Name);
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteInt64(input.Shape[1]);
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteInt64(input.Shape[2]);
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString("FP32");
        });
        var requested = Encode(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(expected[0].Name);
        });
        var request = Encode(o =>
        {
            o.WriteTag(7, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(input.Data));
            o.WriteTag(99, WireFormat.WireType.Varint);
            o.WriteUInt64(42);
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(tensor));
            o.WriteTag(3, WireFormat.WireType.LengthDelimited);
            o.WriteString("hand-encoded");
            o.WriteTag(6, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(requested));
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("hey_jarvis");
        });

        var reply = ModelInferResponse.Parser.ParseFrom(await CallModelInferAsync(request));

        Assert.Equal("hey_jarvis", reply.ModelName);
        Assert.Equal("1", reply.ModelVersion);
        Assert.Equal("hand-encoded", reply.Id);
        AssertSame(expected, V2Client.OutputsOf(reply), "hand-encoded gRPC");
    }

    [Fact]
    public async Task ModelInfer_WithMalformedProtobuf_ReturnsInvalidArgumentNamingTheProblem()
    {
        // Field 1 (the model name) says 200 bytes follow, and 2 do.
        var error = await Assert.ThrowsAsync<RpcException>(() => CallModelInferAsync([0x0A, 200, 1, (byte)'h', (byte)'e', 0x3A, 0]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("the request is not a valid ModelInferRequest: it has a length-delimited field longer than the message", error.Status.Detail);
    }

    [Fact]
    public async Task WakeWordChain_MelspectrogramToEmbeddingToHeyJarvis_EqualsBareOnnxRuntime()
    {
        using var mel = new BareOrt(SampleInputs.ModelPath("melspectrogram"));
        using var embedding = new BareOrt(SampleInputs.ModelPath("embedding"));
        using var jarvis = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
        var audio = NamedTensor.Floats("input", [1, 48000], NamedTensor.RandomFloats(48000, 42, 6000f));

        async Task<float> RunChain(Func<string, IReadOnlyList<NamedTensor>, Task<IReadOnlyList<NamedTensor>>> infer)
        {
            var spectrogram = (await infer("melspectrogram", [audio]))[0];
            var frames = (int)spectrogram.Shape[2];
            var melValues = spectrogram.AsFloats().Select(v => (v / 10f) + 2f).ToArray(); // openWakeWord's scaling
            Assert.True(frames >= 76 + (8 * 15), $"need 196 frames, got {frames}");

            // 16 windows of 76 frames, 8 frames apart, as one batch for the embedding model.
            var windows = new float[16 * 76 * 32];
            for (var w = 0; w < 16; w++)
            {
                Array.Copy(melValues, w * 8 * 32, windows, w * 76 * 32, 76 * 32);
            }

            var embeddings = (await infer("embedding", [NamedTensor.Floats("input_1", [16, 76, 32, 1], windows)]))[0];
            var score = (await infer("hey_jarvis", [NamedTensor.Floats("x.1", [1, 16, 96], embeddings.AsFloats())]))[0];
            return score.AsFloats()[0];
        }

        var expected = await RunChain((model, inputs) => Task.FromResult(
            (model switch { "melspectrogram" => mel, "embedding" => embedding, _ => jarvis }).Run(inputs)));
        Assert.Equal(expected, await RunChain((model, inputs) => V2Client.InferJsonAsync(_agent.Http, model, inputs)));
        Assert.Equal(expected, await RunChain((model, inputs) => V2Client.InferGrpcAsync(_agent.Grpc, model, inputs)));
        Assert.InRange(expected, 0f, 1f);
    }

    [Fact]
    public async Task Infer_PrettyPrintedJsonWithDataBeforeTheName_EqualsBareOnnxRuntime()
    {
        using var reference = new BareOrt(SampleInputs.ModelPath("silero_vad"));
        var inputs = SampleInputs.For("silero_vad", reference, seed: 9);
        // Every input with "data" first, spread over lines, numbers in exponent form.
        var body = new StringBuilder("{\n  \"id\": \"pretty\",\n  \"inputs\": [\n");
        foreach (var input in inputs)
        {
            var values = input.Type == TensorDataType.Int64
                ? string.Join(", ", Enumerable.Range(0, input.Data.Length / 8).Select(i => BitConverter.ToInt64(input.Data, i * 8).ToString(CultureInfo.InvariantCulture)))
                : string.Join(",\n      ", input.AsFloats().Select(v => v.ToString("E9", CultureInfo.InvariantCulture)));
            body.Append(CultureInfo.InvariantCulture, $"    {{ \"data\": [ {values} ],\n      \"shape\": [{string.Join(", ", input.Shape)}], \"name\": \"{input.Name}\", \"datatype\": \"{input.Type.ToProtocolName()}\" }}");
            body.Append(input == inputs[^1] ? "\n" : ",\n");
        }

        body.Append("  ]\n}\n");
        using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
        using var response = await _agent.Http.PostAsync("/v2/models/silero_vad/infer", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var json = JsonNode.Parse(text)!;
        Assert.Equal("pretty", json["id"]!.GetValue<string>());
        AssertSame(reference.Run(inputs), V2Client.ParseJsonOutputs(json), "pretty JSON");
    }

    [Fact]
    public async Task ModelMetadata_NamesTheExecutionProviderAndWhyEachPreferredOneWasSkipped()
    {
        var metadata = JsonNode.Parse(await _agent.Http.GetStringAsync("/v2/models/hey_jarvis"))!;

        Assert.Equal("hey_jarvis", metadata["name"]!.GetValue<string>());
        Assert.Equal(["1"], metadata["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("x.1", metadata["inputs"]![0]!["name"]!.GetValue<string>());
        Assert.Equal([1L, 16, 96], metadata["inputs"]![0]!["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
        Assert.Equal("CPU", metadata["execution_provider"]!.GetValue<string>());
        var notes = metadata["execution_provider_notes"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.Contains(notes, n => n.StartsWith("QNN: QNNExecutionProvider is not in this ONNX Runtime build", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("CUDA:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_CountRequestsAndNameTheProviderPerModelVersion()
    {
        using var reference = new BareOrt(SampleInputs.ModelPath("alexa"));
        var before = MetricValue(await _agent.Http.GetStringAsync("/metrics"), "edge_model_requests_total{model=\"alexa\",version=\"1\"}");
        await V2Client.InferJsonAsync(_agent.Http, "alexa", SampleInputs.For("alexa", reference));
        await V2Client.InferGrpcAsync(_agent.Grpc, "alexa", SampleInputs.For("alexa", reference));

        var metrics = await _agent.Http.GetStringAsync("/metrics");
        Assert.Equal(before + 2, MetricValue(metrics, "edge_model_requests_total{model=\"alexa\",version=\"1\"}"));
        Assert.Contains("edge_model_execution_provider{model=\"alexa\",version=\"1\",provider=\"CPU\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("edge_model_request_duration_seconds_bucket{model=\"alexa\",version=\"1\",le=\"+Inf\"}", metrics, StringComparison.Ordinal);
        Assert.True(MetricValue(metrics, "process_resident_memory_bytes") > 10_000_000);
    }

    [Fact]
    public async Task HealthAndServerMetadata_ReportLiveReadyAndTheBinaryExtension()
    {
        Assert.Equal("{\"live\":true}", await _agent.Http.GetStringAsync("/v2/health/live"));
        Assert.Equal("{\"ready\":true}", await _agent.Http.GetStringAsync("/v2/health/ready"));
        var server = JsonNode.Parse(await _agent.Http.GetStringAsync("/v2"))!;
        Assert.Equal("edge-agent", server["name"]!.GetValue<string>());
        Assert.Contains("binary_tensor_data", server["extensions"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.True((await _agent.Grpc.ServerReadyAsync(new())).Ready);
        Assert.True((await _agent.Grpc.ModelReadyAsync(new() { Name = "embedding" })).Ready);
    }

    private static byte[] Encode(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            write(output);
        }

        return stream.ToArray();
    }

    private async Task<byte[]> CallModelInferAsync(byte[] request)
    {
        var bytes = Marshallers.Create(static (byte[] b) => b, static b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "inference.GRPCInferenceService", "ModelInfer", bytes, bytes);
        return await _agent.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), request);
    }

    internal static void AssertSame(IReadOnlyList<NamedTensor> expected, IReadOnlyList<NamedTensor> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Name == actual[i].Name, $"{what}: output {i} is '{actual[i].Name}', expected '{expected[i].Name}'");
            Assert.True(expected[i].Shape.SequenceEqual(actual[i].Shape), $"{what}: output '{expected[i].Name}' shape differs");
            Assert.True(expected[i].Data.AsSpan().SequenceEqual(actual[i].Data), $"{what}: output '{expected[i].Name}' values differ from bare ONNX Runtime");
        }
    }

    /// <summary>
    /// Asks <paramref name="http"/> (an agent) for hey_jarvis on its sample input and checks every output value is within
    /// <paramref name="tolerance"/> of bare ONNX Runtime here: for agents on other CPU kernels (NEON) or another ORT build.
    /// </summary>
    internal static async Task AssertHeyJarvisCloseAsync(HttpClient http, float tolerance, string what)
    {
        using var reference = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
        var inputs = SampleInputs.For("hey_jarvis", reference);
        var expected = reference.Run(inputs)[0].AsFloats();
        var actual = (await V2Client.InferJsonAsync(http, "hey_jarvis", inputs))[0].AsFloats();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"{what}: value {i} is {actual[i]}, bare ONNX Runtime's {expected[i]} (tolerance {tolerance})");
        }
    }

    internal static double MetricValue(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"metric {series} not found");
        return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
