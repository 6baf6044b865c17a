using System.Buffers.Binary;

namespace EdgeInference.Runtime.Tensors;

/// <summary>Arithmetic and formatting for tensor shapes, where -1 marks a dynamic dimension.</summary>
public static class TensorShape
{
    /// <summary>The highest rank a request may declare (ONNX models on devices use 1 to 5).</summary>
    public const int MaxRank = 8;

    /// <summary>
    /// The product of the dimensions, or -1 when a dimension is negative or the product exceeds <see cref="int.MaxValue"/>.
    /// No intermediate product can wrap: each factor is checked against the room left before multiplying.
    /// </summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0 || (dim > 0 && count > int.MaxValue / dim))
            {
                return -1;
            }

            count *= dim;
        }

        return count;
    }

    /// <summary>
    /// What is wrong with a shape a request declares, or null: a rank over <see cref="MaxRank"/>, a negative dimension,
    /// or more elements than <paramref name="carried"/>, the most the request's bytes can hold. Readers call this before
    /// they allocate anything sized from the shape.
    /// </summary>
    public static string? Problem(ReadOnlySpan<long> shape, long carried)
    {
        if (shape.Length > MaxRank)
        {
            return $"has rank {shape.Length}; at most {MaxRank} is supported";
        }

        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                return $"has a negative dimension in shape {Format(shape)}";
            }
        }

        var elements = ElementCount(shape);
        if (elements < 0)
        {
            return $"has shape {Format(shape)}, more than {int.MaxValue} elements";
        }

        return elements > carried ? $"has shape {Format(shape)} of {elements} elements, more than its data can hold ({carried})" : null;
    }

    /// <summary>Formats a shape as <c>[1,16,96]</c>, with <c>-1</c> for dynamic dimensions.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Whether <paramref name="actual"/> fits <paramref name="declared"/> (same rank; dynamic dims match anything).</summary>
    public static bool Fits(ReadOnlySpan<long> declared, ReadOnlySpan<long> actual)
    {
        if (declared.Length != actual.Length)
        {
            return false;
        }

        for (var i = 0; i < declared.Length; i++)
        {
            if (declared[i] >= 0 && declared[i] != actual[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Counts the elements of a BYTES buffer (length-prefixed elements), or returns -1 when the layout is broken.
    /// </summary>
    public static long CountBytesElements(ReadOnlySpan<byte> data)
    {
        long count = 0;
        while (!data.IsEmpty)
        {
            if (data.Length < 4)
            {
                return -1;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (length > (uint)(data.Length - 4))
            {
                return -1;
            }

            data = data[(4 + (int)length)..];
            count++;
        }

        return count;
    }

    /// <summary>The byte length of the first <paramref name="elements"/> length-prefixed elements of a BYTES buffer.</summary>
    public static int BytesPrefixLength(ReadOnlySpan<byte> data, long elements)
    {
        var offset = 0;
        for (long i = 0; i < elements; i++)
        {
            offset += 4 + (int)BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
        }

        return offset;
    }
}
