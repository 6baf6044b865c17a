using System.Diagnostics.CodeAnalysis;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeInference.Runtime.Tensors;

/// <summary>Conversions between protocol names, ONNX element types and element sizes.</summary>
public static class TensorDataTypes
{
    private static readonly string[] Names =
        ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64", "BYTES"];

    private static readonly byte[][] Utf8Names = Array.ConvertAll(Names, System.Text.Encoding.ASCII.GetBytes);

    /// <summary>The protocol's name for the type, e.g. <c>FP32</c>.</summary>
    public static string ToProtocolName(this TensorDataType type) => Names[(int)type];

    /// <summary>The protocol's name as UTF-8 bytes, for writers that avoid strings.</summary>
    public static ReadOnlySpan<byte> ToProtocolNameUtf8(this TensorDataType type) => Utf8Names[(int)type];

    public static bool TryParse(string? name, out TensorDataType type)
    {
        var index = name is null ? -1 : Array.IndexOf(Names, name);
        type = (TensorDataType)Math.Max(index, 0);
        return index >= 0;
    }

    public static bool TryParse(ReadOnlySpan<byte> utf8Name, out TensorDataType type)
    {
        for (var i = 0; i < Utf8Names.Length; i++)
        {
            if (utf8Name.SequenceEqual(Utf8Names[i]))
            {
                type = (TensorDataType)i;
                return true;
            }
        }

        type = default;
        return false;
    }

    /// <summary>Bytes per element; 0 for <see cref="TensorDataType.Bytes"/>, whose elements vary.</summary>
    public static int ElementSize(this TensorDataType type) => type switch
    {
        TensorDataType.Bool or TensorDataType.UInt8 or TensorDataType.Int8 => 1,
        TensorDataType.UInt16 or TensorDataType.Int16 or TensorDataType.Fp16 or TensorDataType.Bf16 => 2,
        TensorDataType.UInt32 or TensorDataType.Int32 or TensorDataType.Fp32 => 4,
        TensorDataType.UInt64 or TensorDataType.Int64 or TensorDataType.Fp64 => 8,
        _ => 0,
    };

    public static TensorElementType ToOnnx(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => TensorElementType.Bool,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.UInt16 => TensorElementType.UInt16,
        TensorDataType.UInt32 => TensorElementType.UInt32,
        TensorDataType.UInt64 => TensorElementType.UInt64,
        TensorDataType.Int8 => TensorElementType.Int8,
        TensorDataType.Int16 => TensorElementType.Int16,
        TensorDataType.Int32 => TensorElementType.Int32,
        TensorDataType.Int64 => TensorElementType.Int64,
        TensorDataType.Fp16 => TensorElementType.Float16,
        TensorDataType.Bf16 => TensorElementType.BFloat16,
        TensorDataType.Fp32 => TensorElementType.Float,
        TensorDataType.Fp64 => TensorElementType.Double,
        _ => TensorElementType.String,
    };

    public static bool TryFromOnnx(TensorElementType onnx, [NotNullWhen(true)] out TensorDataType? type)
    {
        type = onnx switch
        {
            TensorElementType.Bool => TensorDataType.Bool,
            TensorElementType.UInt8 => TensorDataType.UInt8,
            TensorElementType.UInt16 => TensorDataType.UInt16,
            TensorElementType.UInt32 => TensorDataType.UInt32,
            TensorElementType.UInt64 => TensorDataType.UInt64,
            TensorElementType.Int8 => TensorDataType.Int8,
            TensorElementType.Int16 => TensorDataType.Int16,
            TensorElementType.Int32 => TensorDataType.Int32,
            TensorElementType.Int64 => TensorDataType.Int64,
            TensorElementType.Float16 => TensorDataType.Fp16,
            TensorElementType.BFloat16 => TensorDataType.Bf16,
            TensorElementType.Float => TensorDataType.Fp32,
            TensorElementType.Double => TensorDataType.Fp64,
            TensorElementType.String => TensorDataType.Bytes,
            _ => null,
        };
        return type is not null;
    }
}
