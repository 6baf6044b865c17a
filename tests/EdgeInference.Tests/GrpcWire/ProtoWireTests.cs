using EdgeInference.Agent.Grpc;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Runtime.Inference;
using Google.Protobuf;

namespace EdgeInference.Tests.GrpcWire;

/// <summary>The agent's own protobuf wire reader and writer agree byte for byte with Google.Protobuf.</summary>
public sealed class ProtoWireTests
{
    [Fact]
    public void Writer_EncodesOutputTensorsExactlyAsGoogleProtobufDoes()
    {
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var name = RandomText(random);
            var datatype = RandomText(random);
            var shape = Enumerable.Range(0, random.Next(0, 6)).Select(_ => RandomInt64(random)).ToArray();
            var expected = new ModelInferResponse.Types.InferOutputTensor { Name = name, Datatype = datatype };
            expected.Shape.Add(shape);

            var size = ProtoWireWriter.StringSize(name) + ProtoWireWriter.StringSize(datatype) + ProtoWireWriter.PackedInt64Size(shape);
            Assert.Equal(expected.CalculateSize(), size);
            var actual = new byte[size];
            var writer = new ProtoWireWriter(actual);
            writer.WriteString(1, name);
            writer.WriteString(2, datatype);
            writer.WritePackedInt64(3, shape);
            Assert.Equal(size, writer.Written);
            Assert.Equal(expected.ToByteArray(), actual);
        }
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(127UL)]
    [InlineData(128UL)]
    [InlineData(16_383UL)]
    [InlineData(16_384UL)]
    [InlineData(uint.MaxValue)]
    [InlineData(ulong.MaxValue >> 1)]
    [InlineData(ulong.MaxValue)]
    public void VarintSize_EqualsGoogleProtobufsSize(ulong value) =>
        Assert.Equal(CodedOutputStream.ComputeUInt64Size(value), ProtoWireWriter.VarintSize(value));

    [Fact]
    public void TryReadRawTarget_ReadsWhatTheGeneratedClientWrites()
    {
        var random = new Random(12);
        for (var i = 0; i < 500; i++)
        {
            var request = new ModelInferRequest { ModelName = RandomText(random), ModelVersion = RandomText(random), Id = RandomText(random) };
            request.Parameters.Add("sequence_id", new InferParameter { Int64Param = random.NextInt64() });
            var raw = random.Next(2) == 0;
            if (raw)
            {
                request.RawInputContents.Add(ByteString.CopyFrom(new byte[random.Next(0, 300)]));
            }

            Assert.Equal(raw, GrpcTensorCodec.TryReadRawTarget(request.ToByteArray(), out var model, out var version));
            Assert.Equal(request.ModelName, model);
            Assert.Equal(request.ModelVersion, version);
        }
    }

    [Fact]
    public void TryReadRawTarget_OnEveryTruncationOrCorruptionOfAMessage_ReadsOrThrowsInvalidInput()
    {
        var request = new ModelInferRequest { ModelName = "hey_jarvis", Id = "request-1" };
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = "x.1", Datatype = "FP32" };
        tensor.Shape.Add([1, 16, 96]);
        request.Inputs.Add(tensor);
        request.RawInputContents.Add(ByteString.CopyFrom(new byte[6144]));
        var bytes = request.ToByteArray();
        var random = new Random(13);
        for (var length = 0; length < bytes.Length; length++)
        {
            var corrupt = bytes.AsSpan(0, length).ToArray();
            if (length > 0 && random.Next(2) == 0)
            {
                corrupt[random.Next(length)] = (byte)random.Next(256);
            }

            try
            {
                GrpcTensorCodec.TryReadRawTarget(corrupt, out _, out _);
            }
            catch (InferenceException ex)
            {
                Assert.Equal(InferenceErrorKind.InvalidInput, ex.Kind);
                Assert.StartsWith("the request is not a valid ModelInferRequest: it has ", ex.Message, StringComparison.Ordinal);
            }
        }
    }

    private static string RandomText(Random random)
    {
        var alphabet = "abcXYZ019_.-é€😀";
        var length = random.Next(0, 12);
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var c = random.Next(alphabet.Length);
            text.Append(char.IsHighSurrogate(alphabet[c]) ? alphabet.Substring(c, 2) : char.IsLowSurrogate(alphabet[c]) ? "a" : alphabet[c].ToString());
        }

        return text.ToString();
    }

    private static long RandomInt64(Random random) => random.Next(4) switch
    {
        0 => random.Next(0, 128),
        1 => random.NextInt64(),
        2 => -random.NextInt64(),
        _ => random.Next(0, 100_000),
    };
}
