using System.Text;

namespace EdgeInference.Agent.Grpc;

/// <summary>
/// Writes protobuf wire format into a span sized beforehand with the <c>*Size</c> methods: the agent's ModelInfer
/// fast path writes its reply straight from the output tensors.
/// </summary>
internal ref struct ProtoWireWriter
{
    private readonly Span<byte> _destination;
    private int _position;

    public ProtoWireWriter(Span<byte> destination)
    {
        _destination = destination;
        _position = 0;
    }

    public readonly int Written => _position;

    public static int VarintSize(ulong value) => value < 0x80 ? 1 : (70 - System.Numerics.BitOperations.LeadingZeroCount(value)) / 7;

    /// <summary>Bytes a length-delimited field of <paramref name="length"/> bytes takes, tag included (fields 1–15).</summary>
    public static int LengthDelimitedSize(int length) => 1 + VarintSize((ulong)length) + length;

    /// <summary>Bytes a string field takes, tag included; proto3 leaves out empty strings.</summary>
    public static int StringSize(string value) => value.Length == 0 ? 0 : LengthDelimitedSize(Encoding.UTF8.GetByteCount(value));

    /// <summary>Bytes of a packed repeated int64 field's payload (without tag and length).</summary>
    public static int PackedInt64PayloadSize(ReadOnlySpan<long> values)
    {
        var size = 0;
        foreach (var value in values)
        {
            size += VarintSize((ulong)value);
        }

        return size;
    }

    /// <summary>Bytes a packed repeated int64 field takes, tag included; proto3 leaves out empty ones.</summary>
    public static int PackedInt64Size(ReadOnlySpan<long> values) => values.IsEmpty ? 0 : LengthDelimitedSize(PackedInt64PayloadSize(values));

    public void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _destination[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _destination[_position++] = (byte)value;
    }

    /// <summary>Writes a length-delimited field's tag and length; its payload follows.</summary>
    public void WriteLengthDelimitedHeader(int field, int length)
    {
        WriteVarint((ulong)(field << 3 | 2));
        WriteVarint((ulong)length);
    }

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteLengthDelimitedHeader(field, value.Length);
        value.CopyTo(_destination[_position..]);
        _position += value.Length;
    }

    public void WriteString(int field, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        WriteLengthDelimitedHeader(field, Encoding.UTF8.GetByteCount(value));
        _position += Encoding.UTF8.GetBytes(value, _destination[_position..]);
    }

    public void WritePackedInt64(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        WriteLengthDelimitedHeader(field, PackedInt64PayloadSize(values));
        foreach (var value in values)
        {
            WriteVarint((ulong)value);
        }
    }
}
