using System.Buffers.Binary;
using System.Text;

namespace EdgeInference.Optimization.Tflite;

/// <summary>
/// Reads FlatBuffers tables from a byte array, every read checked against the array's bounds: a damaged or hostile
/// file ends in an <see cref="InvalidDataException"/> naming what was being read, never in reading outside the file.
/// A table's field <c>i</c> is the one declared <c>i</c>-th in the schema (a union takes two: its type, then its value).
/// </summary>
internal readonly struct FlatBufferReader
{
    private readonly byte[] _data;

    public FlatBufferReader(byte[] data) => _data = data;

    public int Length => _data.Length;

    /// <summary>The root table.</summary>
    public int Root() => Reference(0, "the root table");

    /// <summary>The four characters after the root offset (<c>TFL3</c> for TFLite), or null when the file is shorter.</summary>
    public string? Identifier() => _data.Length >= 8 ? Encoding.ASCII.GetString(_data, 4, 4) : null;

    public byte Byte(int table, int field, byte fallback, string what) => Field(table, field, 1, what) is var at and > 0 ? _data[at] : fallback;

    public int Int(int table, int field, int fallback, string what) =>
        Field(table, field, 4, what) is var at and > 0 ? BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(at)) : fallback;

    public uint UInt(int table, int field, uint fallback, string what) =>
        Field(table, field, 4, what) is var at and > 0 ? BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(at)) : fallback;

    public ulong ULong(int table, int field, string what) =>
        Field(table, field, 8, what) is var at and > 0 ? BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(at)) : 0;

    public float Float(int table, int field, float fallback, string what) =>
        Field(table, field, 4, what) is var at and > 0 ? BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan(at)) : fallback;

    public bool Bool(int table, int field, string what) => Byte(table, field, 0, what) != 0;

    /// <summary>A sub-table, or -1 when the field is absent.</summary>
    public int Table(int table, int field, string what) => Field(table, field, 4, what) is var at and > 0 ? Reference(at, what) : -1;

    public string? String(int table, int field, string what)
    {
        var (start, count) = Vector(table, field, 1, what);
        return start < 0 ? null : Encoding.UTF8.GetString(_data, start, count);
    }

    /// <summary>The tables of a vector of tables (empty when the field is absent).</summary>
    public int[] Tables(int table, int field, string what)
    {
        var (start, count) = Vector(table, field, 4, what);
        var tables = new int[Math.Max(count, 0)];
        for (var i = 0; i < tables.Length; i++)
        {
            tables[i] = Reference(start + (4 * i), what);
        }

        return tables;
    }

    public int[] Ints(int table, int field, string what) => Read(table, field, 4, what, (span, i) => BinaryPrimitives.ReadInt32LittleEndian(span[(4 * i)..]));

    public long[] Longs(int table, int field, string what) => Read(table, field, 8, what, (span, i) => BinaryPrimitives.ReadInt64LittleEndian(span[(8 * i)..]));

    public float[] Floats(int table, int field, string what) => Read(table, field, 4, what, (span, i) => BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]));

    /// <summary>A vector of bytes in place (start and length; start -1 when absent), without copying it.</summary>
    public (int Start, int Count) Bytes(int table, int field, string what) => Vector(table, field, 1, what);

    private delegate T Element<T>(ReadOnlySpan<byte> span, int index);

    private T[] Read<T>(int table, int field, int size, string what, Element<T> element)
    {
        var (start, count) = Vector(table, field, size, what);
        var values = new T[Math.Max(count, 0)];
        var span = start < 0 ? [] : _data.AsSpan(start, count * size);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = element(span, i);
        }

        return values;
    }

    /// <summary>Where a vector's elements start and how many there are; (-1, 0) when the field is absent.</summary>
    private (int Start, int Count) Vector(int table, int field, int elementSize, string what)
    {
        var at = Field(table, field, 4, what);
        if (at == 0)
        {
            return (-1, 0);
        }

        var vector = Reference(at, what);
        Check(vector, 4, what);
        long count = BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(vector));
        if (count * elementSize > _data.Length - vector - 4)
        {
            throw new InvalidDataException($"{what}: a vector of {count} elements at byte {vector} runs past the end of the file ({_data.Length} bytes)");
        }

        return (vector + 4, (int)count);
    }

    /// <summary>The position of a field's value in a table, or 0 when the table leaves it out (its default then holds).</summary>
    private int Field(int table, int field, int size, string what)
    {
        Check(table, 4, what);
        var vtable = (long)table - BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(table));
        if (vtable < 0 || vtable > _data.Length - 4)
        {
            throw new InvalidDataException($"{what}: the table at byte {table} has its field list outside the file");
        }

        var vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan((int)vtable));
        var slot = 4 + (2 * field);
        if (slot + 2 > vtableSize)
        {
            return 0;
        }

        Check((int)vtable, slot + 2, what);
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan((int)vtable + slot));
        if (offset == 0)
        {
            return 0;
        }

        Check(table + offset, size, what);
        return table + offset;
    }

    /// <summary>Follows an unsigned offset stored at <paramref name="at"/>.</summary>
    private int Reference(int at, string what)
    {
        Check(at, 4, what);
        var target = (long)at + BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(at));
        if (target > _data.Length - 4)
        {
            throw new InvalidDataException($"{what}: an offset at byte {at} points past the end of the file ({_data.Length} bytes)");
        }

        return (int)target;
    }

    private void Check(int at, int size, string what)
    {
        if (at < 0 || (long)at + size > _data.Length)
        {
            throw new InvalidDataException($"{what}: byte {at} is outside the file ({_data.Length} bytes)");
        }
    }
}
