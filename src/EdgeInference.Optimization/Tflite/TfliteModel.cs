namespace EdgeInference.Optimization.Tflite;

/// <summary>
/// A TFLite model read from its flatbuffer (schema version 3, identifier <c>TFL3</c>): operator codes resolved to
/// operators, subgraphs with their tensors and operators, and the constant buffers, read in place. Reading checks every
/// offset against the file, so a damaged file is an <see cref="InvalidDataException"/> that says what was being read.
/// </summary>
public sealed class TfliteModel
{
    private readonly byte[] _data;
    private readonly (int Start, int Count)[] _buffers;
    private readonly FlatBufferReader _reader;

    private TfliteModel(byte[] data, uint version, string? description, IReadOnlyList<TfliteSubgraph> subgraphs, (int, int)[] buffers)
    {
        _data = data;
        _reader = new FlatBufferReader(data);
        Version = version;
        Description = description;
        Subgraphs = subgraphs;
        _buffers = buffers;
    }

    /// <summary>The schema version the file says it follows (3).</summary>
    public uint Version { get; }

    public string? Description { get; }

    /// <summary>The subgraphs; the first is the model, the others are called by operators such as <c>IF</c>.</summary>
    public IReadOnlyList<TfliteSubgraph> Subgraphs { get; }

    public int BufferCount => _buffers.Length;

    /// <summary>Whether <paramref name="data"/> starts like a TFLite flatbuffer (the <c>TFL3</c> identifier).</summary>
    public static bool Recognizes(ReadOnlySpan<byte> data) => data.Length >= 8 && data[4..8].SequenceEqual("TFL3"u8);

    public static TfliteModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path));
    }

    public static TfliteModel Parse(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!Recognizes(data))
        {
            throw new InvalidDataException("not a TFLite model: the flatbuffer's identifier is not TFL3");
        }

        var reader = new FlatBufferReader(data);
        var model = reader.Root();
        var version = reader.UInt(model, 0, 0, "the model's version");
        if (version != 3)
        {
            throw new InvalidDataException($"TFLite schema version {version} is not supported (3 is)");
        }

        var codes = reader.Tables(model, 1, "the operator codes").Select(code =>
        {
            // The code is the larger of the old one-byte field and the newer int field (the schema's own rule).
            var builtin = Math.Max((sbyte)reader.Byte(code, 0, 0, "an operator code"), reader.Int(code, 3, 0, "an operator code"));
            return (Builtin: builtin, Custom: reader.String(code, 1, "a custom operator code"), Version: reader.Int(code, 2, 1, "an operator version"));
        }).ToArray();
        var subgraphs = reader.Tables(model, 2, "the subgraphs").Select((subgraph, index) => Subgraph(reader, subgraph, index, codes)).ToArray();
        var buffers = reader.Tables(model, 4, "the buffers").Select(buffer => reader.Bytes(buffer, 0, "a buffer's data")).ToArray();
        if (subgraphs.Length == 0)
        {
            throw new InvalidDataException("the TFLite model has no subgraph");
        }

        foreach (var tensor in subgraphs.SelectMany(s => s.Tensors).Where(t => t.Buffer >= buffers.Length))
        {
            throw new InvalidDataException($"tensor '{tensor.Name}' refers to buffer {tensor.Buffer}, but the model has {buffers.Length}");
        }

        return new TfliteModel(data, version, reader.String(model, 3, "the model's description"), subgraphs, buffers);
    }

    /// <summary>The builtin options of <paramref name="op"/> (every field at its default when it has none).</summary>
    internal TfliteOptions Options(TfliteOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return new TfliteOptions(_reader, op.OptionsTable, op.Name);
    }

    /// <summary>The constant data of buffer <paramref name="index"/> (empty for none), in place in the file.</summary>
    public ReadOnlySpan<byte> Buffer(uint index)
    {
        var (start, count) = _buffers[(int)index];
        return start < 0 ? [] : _data.AsSpan(start, count);
    }

    private static TfliteSubgraph Subgraph(FlatBufferReader reader, int subgraph, int index, (int Builtin, string? Custom, int Version)[] codes)
    {
        var where = $"subgraph {index}";
        var tensors = reader.Tables(subgraph, 0, $"{where}'s tensors").Select(tensor =>
        {
            var name = reader.String(tensor, 3, $"{where}: a tensor's name") ?? "";
            var what = $"{where}: tensor '{name}'";
            var quantization = reader.Table(tensor, 4, what) is var q and >= 0 && reader.Floats(q, 2, what) is { Length: > 0 } scale
                ? new TfliteQuantization(scale, reader.Longs(q, 3, what), reader.Int(q, 6, 0, what), reader.Floats(q, 0, what), reader.Floats(q, 1, what))
                : null;
            var signature = reader.Ints(tensor, 7, what);
            return new TfliteTensor(name, (TfliteTensorType)reader.Byte(tensor, 1, 0, what), reader.Ints(tensor, 0, what), signature.Length > 0 ? signature : null,
                reader.UInt(tensor, 2, 0, what), quantization, reader.Bool(tensor, 5, what));
        }).ToArray();
        var operators = reader.Tables(subgraph, 3, $"{where}'s operators").Select((op, opIndex) =>
        {
            var what = $"{where}: operator {opIndex}";
            var code = reader.UInt(op, 0, 0, what);
            if (code >= codes.Length)
            {
                throw new InvalidDataException($"{what} has operator code {code}, but the model has {codes.Length}");
            }

            var operation = new TfliteOperator(codes[code].Builtin, codes[code].Custom, codes[code].Version, reader.Ints(op, 1, what), reader.Ints(op, 2, what),
                reader.Byte(op, 3, 0, what), reader.Table(op, 4, what));
            if (operation.Inputs.Concat(operation.Outputs).FirstOrDefault(t => t < -1 || t >= tensors.Length, int.MinValue) is var bad and not int.MinValue)
            {
                throw new InvalidDataException($"{what} ({operation.Name}) refers to tensor {bad}, but {where} has {tensors.Length}");
            }

            return operation;
        }).ToArray();
        var inputs = reader.Ints(subgraph, 1, $"{where}'s inputs");
        var outputs = reader.Ints(subgraph, 2, $"{where}'s outputs");
        if (inputs.Concat(outputs).FirstOrDefault(t => t < 0 || t >= tensors.Length, int.MinValue) is var wrong and not int.MinValue)
        {
            throw new InvalidDataException($"{where}'s inputs or outputs refer to tensor {wrong}, but it has {tensors.Length}");
        }

        return new TfliteSubgraph(reader.String(subgraph, 4, $"{where}'s name") ?? "", tensors, inputs, outputs, operators);
    }
}
