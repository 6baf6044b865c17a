using System.Runtime.InteropServices;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Testing;

/// <summary>A tensor as tests handle it: name, type, shape and raw little-endian bytes (BYTES length-prefixed).</summary>
public sealed record NamedTensor(string Name, TensorDataType Type, long[] Shape, byte[] Data)
{
    public static NamedTensor Floats(string name, long[] shape, float[] values) =>
        new(name, TensorDataType.Fp32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static NamedTensor Int64s(string name, long[] shape, long[] values) =>
        new(name, TensorDataType.Int64, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public float[] AsFloats() => MemoryMarshal.Cast<byte, float>(Data).ToArray();

    /// <summary>Deterministic pseudo-random floats in [-1, 1) (or scaled), for inputs that exercise a model.</summary>
    public static float[] RandomFloats(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }
}
