using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EdgeInference.Runtime.Tensors;

/// <summary>
/// Appends elements into a growing pinned pooled buffer, for parsers that learn a tensor's size as they read it.
/// <see cref="Detach"/> hands the buffer to a <see cref="TensorBuffer"/>; otherwise <see cref="Dispose"/> returns it.
/// </summary>
public sealed class TensorBufferWriter : IDisposable
{
    private readonly PinnedBufferPool _pool;
    private byte[] _buffer;

    public TensorBufferWriter(PinnedBufferPool pool, int initialCapacity = 256)
    {
        _pool = pool ?? throw new ArgumentNullException(nameof(pool));
        _buffer = pool.Rent(initialCapacity);
    }

    public int Length { get; private set; }

    /// <summary>Elements appended so far (BYTES elements count one each).</summary>
    public long Count { get; private set; }

    public void Append<T>(T value) where T : unmanaged
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        Ensure(size);
        MemoryMarshal.Write(_buffer.AsSpan(Length), in value);
        Length += size;
        Count++;
    }

    /// <summary>Appends one BYTES element: its 4-byte little-endian length, then its bytes.</summary>
    public void AppendBytesElement(ReadOnlySpan<byte> value)
    {
        Ensure(4 + value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(Length), value.Length);
        value.CopyTo(_buffer.AsSpan(Length + 4));
        Length += 4 + value.Length;
        Count++;
    }

    /// <summary>Reserves room for one BYTES element of up to <paramref name="maxLength"/> bytes and returns where to write it.</summary>
    public Span<byte> BeginBytesElement(int maxLength)
    {
        Ensure(4 + maxLength);
        return _buffer.AsSpan(Length + 4, maxLength);
    }

    /// <summary>Completes an element begun with <see cref="BeginBytesElement"/>.</summary>
    public void EndBytesElement(int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(Length), length);
        Length += 4 + length;
        Count++;
    }

    /// <summary>Returns at least <paramref name="sizeHint"/> bytes of room after what is written, for a caller to fill and <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int sizeHint)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(Length);
    }

    /// <summary>Commits <paramref name="bytes"/> written into the span from <see cref="GetSpan"/>, holding <paramref name="elements"/> elements.</summary>
    public void Advance(int bytes, long elements)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _buffer.Length - Length);
        Length += bytes;
        Count += elements;
    }

    /// <summary>Forgets everything appended, keeping the buffer.</summary>
    public void Clear()
    {
        Length = 0;
        Count = 0;
    }

    /// <summary>Turns the written bytes into a tensor; the writer is empty and unusable afterwards.</summary>
    public TensorBuffer Detach(string name, TensorDataType dataType, long[] shape)
    {
        var buffer = _buffer;
        _buffer = [];
        return TensorBuffer.Adopt(_pool, name, dataType, shape, buffer, Length);
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            _pool.Return(_buffer);
            _buffer = [];
        }
    }

    private void Ensure(int extra)
    {
        if (Length + extra <= _buffer.Length)
        {
            return;
        }

        var grown = _pool.Rent(checked(Math.Max(Length + extra, _buffer.Length * 2)));
        _buffer.AsSpan(0, Length).CopyTo(grown);
        _pool.Return(_buffer);
        _buffer = grown;
    }
}
