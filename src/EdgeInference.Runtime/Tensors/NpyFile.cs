using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace EdgeInference.Runtime.Tensors;

/// <summary>
/// NumPy's .npy format (versions 1 to 3): little-endian numeric and boolean arrays in C order. Reading checks the
/// header and the data length and throws <see cref="FormatException"/> naming what is wrong.
/// </summary>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static readonly (string Descr, TensorDataType Type)[] Types =
    [
        ("b1", TensorDataType.Bool), ("u1", TensorDataType.UInt8), ("i1", TensorDataType.Int8),
        ("u2", TensorDataType.UInt16), ("i2", TensorDataType.Int16), ("f2", TensorDataType.Fp16),
        ("u4", TensorDataType.UInt32), ("i4", TensorDataType.Int32), ("f4", TensorDataType.Fp32),
        ("u8", TensorDataType.UInt64), ("i8", TensorDataType.Int64), ("f8", TensorDataType.Fp64),
    ];

    /// <summary>Reads an array: its element type, shape and raw little-endian bytes.</summary>
    public static (TensorDataType Type, long[] Shape, byte[] Data) Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 10 || !file[..6].SequenceEqual(Magic))
        {
            throw new FormatException("not a .npy file (no \\x93NUMPY magic)");
        }

        var major = file[6];
        long headerLength;
        int headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(file[8..]);
                headerStart = 10;
                break;
            case 2 or 3 when file.Length >= 12:
                headerLength = BinaryPrimitives.ReadUInt32LittleEndian(file[8..]);
                headerStart = 12;
                break;
            default:
                throw new FormatException($".npy version {major} is not supported (1 to 3 are)");
        }

        if (headerStart + headerLength > file.Length)
        {
            throw new FormatException("the .npy header runs past the end of the file");
        }

        var header = Encoding.UTF8.GetString(file.Slice(headerStart, (int)headerLength));
        var descr = Field(header, "descr").Trim('\'', '"');
        if (Field(header, "fortran_order") != "False")
        {
            throw new FormatException("Fortran-ordered arrays are not supported; save the array in C order");
        }

        if (descr.Length != 3 || descr[0] is not ('<' or '|' or '='))
        {
            throw new FormatException($"element type '{descr}' is not supported: only little-endian numbers and booleans are");
        }

        var type = Array.Find(Types, t => t.Descr == descr[1..]);
        if (type.Descr is null)
        {
            throw new FormatException($"element type '{descr}' is not supported: only little-endian numbers and booleans are");
        }

        var shapeText = Field(header, "shape").Trim('(', ')');
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var dim) ? dim : throw new FormatException($"shape ({shapeText}) is not a tuple of sizes"))
            .ToArray();
        var data = file[(headerStart + (int)headerLength)..];
        if (TensorShape.Problem(shape, long.MaxValue) is { } problem)
        {
            throw new FormatException($"the array {problem}");
        }

        var bytes = TensorShape.ElementCount(shape) * type.Type.ElementSize();
        if (data.Length != bytes)
        {
            throw new FormatException($"shape ({shapeText}) of {descr} needs {bytes} bytes of data but the file has {data.Length}");
        }

        return (type.Type, shape, data.ToArray());
    }

    /// <summary>Writes an array as a version 1 .npy file.</summary>
    public static byte[] Write(TensorDataType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        var descr = Array.Find(Types, t => t.Type == type).Descr ?? throw new ArgumentException($"{type} has no .npy element type", nameof(type));
        var dims = string.Join(", ", shape.ToArray());
        var header = $"{{'descr': '{(type.ElementSize() == 1 ? '|' : '<')}{descr}', 'fortran_order': False, 'shape': ({dims}{(shape.Length == 1 ? "," : "")}), }}";
        var padded = header.PadRight(((10 + header.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        var output = new byte[10 + padded.Length + data.Length];
        Magic.CopyTo(output, 0);
        output[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(8), (ushort)padded.Length);
        Encoding.ASCII.GetBytes(padded, output.AsSpan(10));
        data.CopyTo(output.AsSpan(10 + padded.Length));
        return output;
    }

    private static string Field(string header, string key)
    {
        var at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0)
        {
            throw new FormatException($"the .npy header has no '{key}'");
        }

        var colon = header.IndexOf(':', at);
        var start = colon + 1;
        var end = header[start..].TrimStart().StartsWith('(') ? header.IndexOf(')', start) + 1 : header.IndexOf(',', start);
        if (colon < 0 || end <= start)
        {
            throw new FormatException($"the .npy header's '{key}' cannot be read");
        }

        return header[start..end].Trim();
    }
}
