using System.Runtime.InteropServices;

namespace EdgeInference.Runtime.Tensors;

/// <summary>
/// A named tensor whose bytes live in a pinned, pooled buffer. Inputs are parsed straight into one and
/// handed to ONNX Runtime in place; outputs are copied into one. Disposing returns the buffer to its pool.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private readonly PinnedBufferPool? _pool;
    private byte[]? _buffer;

    private TensorBuffer(string name, TensorDataType dataType, long[] shape, byte[] buffer, int length, PinnedBufferPool? pool)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        _buffer = buffer;
        Length = length;
        _pool = pool;
    }

    public string Name { get; }

    public TensorDataType DataType { get; }

    public long[] Shape { get; }

    /// <summary>Bytes in use: element count × element size, or the length-prefixed layout for BYTES.</summary>
    public int Length { get; }

    public long ElementCount => TensorShape.ElementCount(Shape);

    public Span<byte> Span => Buffer.AsSpan(0, Length);

    /// <summary>The address of the first byte; valid while this buffer is alive (the array is pinned).</summary>
    public IntPtr Pointer => Marshal.UnsafeAddrOfPinnedArrayElement(Buffer, 0);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(TensorBuffer));

    /// <summary>Rents a pinned buffer of <paramref name="length"/> bytes from <paramref name="pool"/>.</summary>
    public static TensorBuffer Rent(PinnedBufferPool pool, string name, TensorDataType dataType, long[] shape, int length)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return new TensorBuffer(name, dataType, shape, pool.Rent(length), length, pool);
    }

    /// <summary>Copies <paramref name="data"/> into a pinned array of its own (not pooled): for cached copies and tests.</summary>
    public static TensorBuffer Copy(string name, TensorDataType dataType, long[] shape, ReadOnlySpan<byte> data)
    {
        var array = GC.AllocateUninitializedArray<byte>(data.Length, pinned: true);
        data.CopyTo(array);
        return new TensorBuffer(name, dataType, shape, array, data.Length, pool: null);
    }

    /// <summary>Takes ownership of a buffer rented from <paramref name="pool"/>.</summary>
    internal static TensorBuffer Adopt(PinnedBufferPool pool, string name, TensorDataType dataType, long[] shape, byte[] buffer, int length) =>
        new(name, dataType, shape, buffer, length, pool);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            _pool?.Return(buffer);
        }
    }
}
