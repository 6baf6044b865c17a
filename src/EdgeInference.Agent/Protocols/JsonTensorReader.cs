using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Protocols;

/// <summary>
/// Reads a JSON tensor value (a scalar, a flat array or nested arrays) straight into a pinned buffer as
/// the model's element type, recording the nested shape. Errors name the input and the element.
/// </summary>
internal static class JsonTensorReader
{
    private const int MaxRank = 32;

    /// <summary>
    /// Reads a flat array of FP32 numbers straight from the bytes of <paramref name="json"/> (the whole
    /// document the reader reads), leaving the reader on the array's end: the common case of the v2 "data"
    /// field, at a fraction of the token-by-token cost. Returns false, having consumed nothing, for anything
    /// else (nesting, strings, other types), which the general path then reads and reports on.
    /// <paramref name="readerOffset"/> is where in <paramref name="json"/> the reader's input starts; it
    /// moves when the reader is resumed past the array.
    /// </summary>
    public static bool TryReadFlatFloats(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, ref int readerOffset, TensorBufferWriter writer)
    {
        if (reader.TokenType != JsonTokenType.StartArray || reader.HasValueSequence)
        {
            return false;
        }

        var position = readerOffset + (int)reader.BytesConsumed; // just past '['
        var free = MemoryMarshal.Cast<byte, float>(writer.GetSpan(1024));
        var count = 0;
        while (true)
        {
            position = SkipWhitespace(json, position);
            if (count == 0 && position < json.Length && json[position] == ']')
            {
                break; // an empty array
            }

            if (!FastFloatParser.TryParsePrefix(json[position..], out var value, out var consumed))
            {
                writer.Clear();
                return false;
            }

            if (count == free.Length)
            {
                writer.Advance(count * sizeof(float), count);
                free = MemoryMarshal.Cast<byte, float>(writer.GetSpan(free.Length * 2 * sizeof(float)));
                count = 0;
            }

            free[count++] = value;
            position = SkipWhitespace(json, position + consumed);
            if (position < json.Length && json[position] == ',')
            {
                position++;
                continue;
            }

            break;
        }

        writer.Advance(count * sizeof(float), count);
        if (position < json.Length && json[position] == ']')
        {
            // Resume the reader on the closing bracket, with the array still open in its state.
            var resumed = new Utf8JsonReader(json[position..], isFinalBlock: true, reader.CurrentState);
            if (resumed.Read() && resumed.TokenType == JsonTokenType.EndArray)
            {
                reader = resumed;
                readerOffset = position;
                return true;
            }
        }

        writer.Clear();
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // twice per number: the AOT compiler left it a call
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int position)
    {
        while (position < json.Length && json[position] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            position++;
        }

        return position;
    }

    /// <summary>Reads the value under the reader into <paramref name="writer"/>; returns its nested shape.</summary>
    public static long[] ReadValue(ref Utf8JsonReader reader, TensorDataType type, TensorBufferWriter writer, string input)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            ReadElement(ref reader, type, writer, input);
            return [];
        }

        Span<long> counts = stackalloc long[MaxRank];
        Span<long> dims = stackalloc long[MaxRank];
        dims.Fill(-1);
        var depth = 0;
        var leafDepth = -1;
        var rank = 0;
        do
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    if (depth == MaxRank || (leafDepth >= 0 && depth >= leafDepth))
                    {
                        throw Invalid($"input '{input}' has ragged or too deeply nested arrays");
                    }

                    if (depth > 0)
                    {
                        counts[depth - 1]++;
                    }

                    counts[depth] = 0;
                    depth++;
                    rank = Math.Max(rank, depth);
                    break;
                case JsonTokenType.EndArray:
                    depth--;
                    if (dims[depth] < 0)
                    {
                        dims[depth] = counts[depth];
                    }
                    else if (dims[depth] != counts[depth])
                    {
                        throw Invalid($"input '{input}' has ragged nested arrays: {counts[depth]} elements where others have {dims[depth]}");
                    }

                    break;
                default:
                    if (leafDepth < 0)
                    {
                        leafDepth = depth;
                    }
                    else if (depth != leafDepth)
                    {
                        throw Invalid($"input '{input}' has ragged nested arrays");
                    }

                    counts[depth - 1]++;
                    ReadElement(ref reader, type, writer, input);
                    break;
            }
        }
        while (depth > 0 && Next(ref reader));

        return dims[..rank].ToArray();
    }

    private static bool Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw Invalid("the JSON ends inside a tensor");
        }

        return true;
    }

    private static void ReadElement(ref Utf8JsonReader reader, TensorDataType type, TensorBufferWriter writer, string input)
    {
        var ok = type switch
        {
            TensorDataType.Fp32 => reader.TokenType == JsonTokenType.Number && Append(writer, FastFloatParser.TryParse(reader.ValueSpan, out var f), f),
            TensorDataType.Fp64 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetDouble(out var d), d),
            TensorDataType.Fp16 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetDouble(out var h), (Half)h),
            TensorDataType.Bf16 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetSingle(out var b), TensorValues.ToBFloat16(b)),
            TensorDataType.Int8 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetSByte(out var i8), i8),
            TensorDataType.Int16 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetInt16(out var i16), i16),
            TensorDataType.Int32 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetInt32(out var i32), i32),
            TensorDataType.Int64 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetInt64(out var i64), i64),
            TensorDataType.UInt8 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetByte(out var u8), u8),
            TensorDataType.UInt16 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetUInt16(out var u16), u16),
            TensorDataType.UInt32 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetUInt32(out var u32), u32),
            TensorDataType.UInt64 => reader.TokenType == JsonTokenType.Number && Append(writer, reader.TryGetUInt64(out var u64), u64),
            TensorDataType.Bool => reader.TokenType is JsonTokenType.True or JsonTokenType.False && Append(writer, true, reader.TokenType == JsonTokenType.True),
            _ => ReadBytesElement(ref reader, writer),
        };
        if (!ok)
        {
            throw Invalid($"input '{input}' element {writer.Count} is {Describe(reader.TokenType)}, not a valid {type.ToProtocolName()} value");
        }
    }

    private static bool Append<T>(TensorBufferWriter writer, bool parsed, T value) where T : unmanaged
    {
        if (parsed)
        {
            writer.Append(value);
        }

        return parsed;
    }

    private static bool ReadBytesElement(ref Utf8JsonReader reader, TensorBufferWriter writer)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            // TF Serving's binary form: {"b64": "..."}
            if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("b64"u8)
                || !reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            var decoded = reader.GetBytesFromBase64();
            writer.AppendBytesElement(decoded);
            return reader.Read() && reader.TokenType == JsonTokenType.EndObject;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var target = writer.BeginBytesElement(length);
        writer.EndBytesElement(reader.CopyString(target));
        return true;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number out of range",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        _ => token.ToString(),
    };

    private static InferenceException Invalid(string message) => new(InferenceErrorKind.InvalidInput, message);
}
