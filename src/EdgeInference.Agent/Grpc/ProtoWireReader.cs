using EdgeInference.Runtime.Inference;

namespace EdgeInference.Agent.Grpc;

/// <summary>
/// Reads protobuf wire format field by field from a span, without allocating: the agent's ModelInfer fast path reads
/// names and raw tensor bytes in place instead of building protobuf objects. Malformed input throws an invalid-input
/// <see cref="InferenceException"/>, which the gRPC service answers with INVALID_ARGUMENT.
/// </summary>
internal ref struct ProtoWireReader
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtoWireReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>Reads the next field's number and wire type; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }

        var tag = ReadVarint();
        field = (int)Math.Min(tag >> 3, int.MaxValue);
        wireType = (int)(tag & 7);
        if (field == 0)
        {
            throw Malformed("a field numbered 0");
        }

        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw Malformed("a varint cut short");
            }

            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a varint longer than 10 bytes");
    }

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _data.Length - _position;

    public ReadOnlySpan<byte> ReadLengthDelimited() => _data[ReadLengthDelimitedRange()];

    /// <summary>Reads a length-delimited value and gives where it lies in the message.</summary>
    public Range ReadLengthDelimitedRange()
    {
        var length = ReadVarint();
        if (length > (ulong)Remaining)
        {
            throw Malformed("a length-delimited field longer than the message");
        }

        var start = _position;
        _position += (int)length;
        return new Range(start, _position);
    }

    /// <summary>Skips the value of a field this reader does not use.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case LengthDelimited: ReadLengthDelimited(); break;
            case Fixed64: Advance(8); break;
            case Fixed32: Advance(4); break;
            default: throw Malformed($"wire type {wireType}, which proto3 does not use");
        }
    }

    private void Advance(int count)
    {
        if (Remaining < count)
        {
            throw Malformed("a fixed-width field cut short");
        }

        _position += count;
    }

    private static InferenceException Malformed(string what) =>
        new(InferenceErrorKind.InvalidInput, $"the request is not a valid ModelInferRequest: it has {what}");
}
