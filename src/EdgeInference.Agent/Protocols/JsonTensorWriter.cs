using System.Buffers.Binary;
using System.Text.Json;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Protocols;

/// <summary>Writes tensor elements as JSON, flat (Open Inference Protocol) or nested by shape (TF Serving).</summary>
internal static class JsonTensorWriter
{
    /// <summary>Writes elements [<paramref name="start"/>, start + count) as a flat array's items.</summary>
    public static void WriteElements(Utf8JsonWriter json, TensorBuffer tensor, long start, long count)
    {
        var data = (ReadOnlySpan<byte>)tensor.Span;
        if (tensor.DataType == TensorDataType.Bytes)
        {
            var offset = TensorShape.BytesPrefixLength(data, start);
            for (long i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
                var bytes = data.Slice(offset + 4, length);
                if (System.Text.Unicode.Utf8.IsValid(bytes))
                {
                    json.WriteStringValue(bytes);
                }
                else
                {
                    json.WriteBase64StringValue(bytes);
                }

                offset += 4 + length;
            }

            return;
        }

        var end = start + count;
        switch (tensor.DataType)
        {
            case TensorDataType.Fp32:
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data);
                for (var i = (int)start; i < end; i++)
                {
                    WriteFloat(json, floats[i]);
                }

                break;
            case TensorDataType.Fp64:
                var doubles = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(data);
                for (var i = (int)start; i < end; i++)
                {
                    WriteDouble(json, doubles[i]);
                }

                break;
            case TensorDataType.Fp16:
            case TensorDataType.Bf16:
                for (var i = (int)start; i < end; i++)
                {
                    WriteFloat(json, (float)TensorValues.Get(data, tensor.DataType, i));
                }

                break;
            case TensorDataType.Bool:
                for (var i = (int)start; i < end; i++)
                {
                    json.WriteBooleanValue(data[i] != 0);
                }

                break;
            case TensorDataType.UInt64:
                var ulongs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data);
                for (var i = (int)start; i < end; i++)
                {
                    json.WriteNumberValue(ulongs[i]);
                }

                break;
            case TensorDataType.Int64:
                var longs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data);
                for (var i = (int)start; i < end; i++)
                {
                    json.WriteNumberValue(longs[i]);
                }

                break;
            default:
                for (var i = (int)start; i < end; i++)
                {
                    json.WriteNumberValue((long)TensorValues.Get(data, tensor.DataType, i));
                }

                break;
        }
    }

    /// <summary>Writes elements from <paramref name="start"/> nested by <paramref name="shape"/> (a scalar for rank 0).</summary>
    public static void WriteNested(Utf8JsonWriter json, TensorBuffer tensor, ReadOnlySpan<long> shape, long start)
    {
        if (shape.IsEmpty)
        {
            WriteElements(json, tensor, start, 1);
            return;
        }

        json.WriteStartArray();
        if (shape.Length == 1)
        {
            WriteElements(json, tensor, start, shape[0]);
        }
        else
        {
            var inner = TensorShape.ElementCount(shape[1..]);
            for (long i = 0; i < shape[0]; i++)
            {
                WriteNested(json, tensor, shape[1..], start + (i * inner));
            }
        }

        json.WriteEndArray();
    }

    private static void WriteFloat(Utf8JsonWriter json, float value)
    {
        if (float.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteStringValue(float.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);
        }
    }

    private static void WriteDouble(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteStringValue(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);
        }
    }
}
