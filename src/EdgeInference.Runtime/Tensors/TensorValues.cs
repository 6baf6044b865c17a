using System.Runtime.InteropServices;

namespace EdgeInference.Runtime.Tensors;

/// <summary>Reads and writes single elements of a tensor buffer as doubles, for warm-up, summaries and tests.</summary>
public static class TensorValues
{
    /// <summary>Sets every element of <paramref name="data"/> to <paramref name="value"/>.</summary>
    public static void Fill(Span<byte> data, TensorDataType type, double value)
    {
        switch (type)
        {
            case TensorDataType.Bool: data.Fill(value != 0 ? (byte)1 : (byte)0); break;
            case TensorDataType.UInt8: data.Fill((byte)value); break;
            case TensorDataType.Int8: data.Fill(unchecked((byte)(sbyte)value)); break;
            case TensorDataType.UInt16: MemoryMarshal.Cast<byte, ushort>(data).Fill((ushort)value); break;
            case TensorDataType.Int16: MemoryMarshal.Cast<byte, short>(data).Fill((short)value); break;
            case TensorDataType.UInt32: MemoryMarshal.Cast<byte, uint>(data).Fill((uint)value); break;
            case TensorDataType.Int32: MemoryMarshal.Cast<byte, int>(data).Fill((int)value); break;
            case TensorDataType.UInt64: MemoryMarshal.Cast<byte, ulong>(data).Fill((ulong)value); break;
            case TensorDataType.Int64: MemoryMarshal.Cast<byte, long>(data).Fill((long)value); break;
            case TensorDataType.Fp16: MemoryMarshal.Cast<byte, Half>(data).Fill((Half)value); break;
            case TensorDataType.Bf16: MemoryMarshal.Cast<byte, ushort>(data).Fill(ToBFloat16((float)value)); break;
            case TensorDataType.Fp32: MemoryMarshal.Cast<byte, float>(data).Fill((float)value); break;
            case TensorDataType.Fp64: MemoryMarshal.Cast<byte, double>(data).Fill(value); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "BYTES elements are not numbers");
        }
    }

    /// <summary>Element <paramref name="index"/> of a numeric buffer as a double.</summary>
    public static double Get(ReadOnlySpan<byte> data, TensorDataType type, int index) => type switch
    {
        TensorDataType.Bool or TensorDataType.UInt8 => data[index],
        TensorDataType.Int8 => (sbyte)data[index],
        TensorDataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(data)[index],
        TensorDataType.Int16 => MemoryMarshal.Cast<byte, short>(data)[index],
        TensorDataType.UInt32 => MemoryMarshal.Cast<byte, uint>(data)[index],
        TensorDataType.Int32 => MemoryMarshal.Cast<byte, int>(data)[index],
        TensorDataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(data)[index],
        TensorDataType.Int64 => MemoryMarshal.Cast<byte, long>(data)[index],
        TensorDataType.Fp16 => (double)MemoryMarshal.Cast<byte, Half>(data)[index],
        TensorDataType.Bf16 => FromBFloat16(MemoryMarshal.Cast<byte, ushort>(data)[index]),
        TensorDataType.Fp32 => MemoryMarshal.Cast<byte, float>(data)[index],
        TensorDataType.Fp64 => MemoryMarshal.Cast<byte, double>(data)[index],
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "BYTES elements are not numbers"),
    };

    /// <summary>Rounds a float to bfloat16 (round to nearest even), as ONNX does.</summary>
    public static ushort ToBFloat16(float value)
    {
        if (float.IsNaN(value))
        {
            return 0x7FC0;
        }

        var bits = BitConverter.SingleToUInt32Bits(value);
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);
}
