using System.Text;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests;

/// <summary>Every element type ONNX Runtime takes travels through JSON, the binary extension and gRPC unchanged.</summary>
public sealed class DatatypeTests : IAsyncLifetime
{
    private string _models = "";
    private AgentHost _agent = null!;

    public static TheoryData<TensorDataType> Types => new(Enum.GetValues<TensorDataType>());

    public async Task InitializeAsync()
    {
        _models = TestPaths.NewTempDirectory("models");
        foreach (var type in Enum.GetValues<TensorDataType>())
        {
            OnnxModelBuilder.Write(Path.Combine(_models, Name(type), "1"), OnnxModelBuilder.Identity(type, [-1, 3]));
        }

        _agent = await AgentHost.StartAsync(_models);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_models, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Identity_OfEachDatatype_ReturnsTheInputOverEveryProtocol(TensorDataType type)
    {
        var input = Sample(type);
        var expected = new[] { input with { Name = "y" } };
        SampleModelOutputTests.AssertSame(expected, await V2Client.InferJsonAsync(_agent.Http, Name(type), [input]), $"{type} JSON");
        SampleModelOutputTests.AssertSame(expected, await V2Client.InferBinaryAsync(_agent.Http, Name(type), [input]), $"{type} binary");
        SampleModelOutputTests.AssertSame(expected, await V2Client.InferGrpcAsync(_agent.Grpc, Name(type), [input]), $"{type} gRPC");
    }

    private static string Name(TensorDataType type) => "identity_" + type.ToProtocolName().ToLowerInvariant();

    /// <summary>Two rows of three values at the edges of each type's range.</summary>
    private static NamedTensor Sample(TensorDataType type)
    {
        long[] shape = [2, 3];
        if (type == TensorDataType.Bytes)
        {
            using var stream = new MemoryStream();
            foreach (var text in new[] { "hey", "jarvis", "", "ünïcödé", "a\"quote", "tab\there" })
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                stream.Write(BitConverter.GetBytes(bytes.Length));
                stream.Write(bytes);
            }

            return new NamedTensor("x", type, shape, stream.ToArray());
        }

        double[] values = type switch
        {
            TensorDataType.Bool => [1, 0, 1, 1, 0, 0],
            TensorDataType.UInt8 => [0, 1, 255, 7, 128, 42],
            TensorDataType.Int8 => [-128, 127, 0, -1, 5, 99],
            TensorDataType.UInt16 => [0, 65535, 1, 300, 2, 3],
            TensorDataType.Int16 => [-32768, 32767, 0, -300, 2, 3],
            TensorDataType.UInt32 => [0, 4294967295, 1, 70000, 2, 3],
            TensorDataType.Int32 => [int.MinValue, int.MaxValue, 0, -70000, 2, 3],
            TensorDataType.Fp16 => [0.5, -2, 65504, 0.0009765625, 3, -0.25],
            TensorDataType.Bf16 => [0.5, -2, 1.5, 256, 3, -0.25],
            _ => [0.1, -2.5e-7, 3.4e12, -1, 0, 123.456],
        };
        var data = new byte[6 * type.ElementSize()];
        for (var i = 0; i < 6; i++)
        {
            var slot = data.AsSpan(i * type.ElementSize(), type.ElementSize());
            TensorValues.Fill(slot, type, values[i]);
        }

        if (type == TensorDataType.Int64)
        {
            BitConverter.TryWriteBytes(data.AsSpan(0, 8), long.MinValue);
            BitConverter.TryWriteBytes(data.AsSpan(8, 8), long.MaxValue);
        }
        else if (type == TensorDataType.UInt64)
        {
            BitConverter.TryWriteBytes(data.AsSpan(8, 8), ulong.MaxValue);
        }

        return new NamedTensor("x", type, shape, data);
    }
}
