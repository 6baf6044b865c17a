namespace EdgeInference.Optimization.Tflite;

/// <summary>
/// One operator's builtin options table, read by field number (the order of the fields in the schema's options table for
/// that operator); a missing table or field reads as the schema's default.
/// </summary>
internal readonly struct TfliteOptions
{
    private readonly FlatBufferReader _reader;
    private readonly int _table;
    private readonly string _what;

    public TfliteOptions(FlatBufferReader reader, int table, string operatorName)
    {
        _reader = reader;
        _table = table;
        _what = $"the options of {operatorName}";
    }

    public byte Byte(int field, byte fallback = 0) => _table < 0 ? fallback : _reader.Byte(_table, field, fallback, _what);

    public bool Bool(int field) => _table >= 0 && _reader.Bool(_table, field, _what);

    public int Int(int field, int fallback = 0) => _table < 0 ? fallback : _reader.Int(_table, field, fallback, _what);

    public float Float(int field, float fallback = 0) => _table < 0 ? fallback : _reader.Float(_table, field, fallback, _what);

    public int[] Ints(int field) => _table < 0 ? [] : _reader.Ints(_table, field, _what);
}
