using System.Text.Json;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Protocols;

/// <summary>
/// Parses an Open Inference Protocol v2 infer request (JSON, plus the binary tensor data extension) against
/// a model version: input names are matched without allocating, data lands in pinned pooled buffers.
/// </summary>
internal static class V2InferRequestReader
{
    /// <param name="binaryOutputs">Per model output, whether to return it as binary; null when none is.</param>
    public static InferenceRequest Read(ReadOnlySpan<byte> json, ReadOnlySpan<byte> binary, ModelVersion model, PinnedBufferPool pool, out bool[]? binaryOutputs)
    {
        var request = new InferenceRequest(model.Inputs.Count);
        binaryOutputs = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid("the request body must be a JSON object");
            }

            var binaryOffset = 0;
            var readerOffset = 0; // where in json the reader's input starts (it moves when a data array is skipped fast)
            var binaryByDefault = false;
            bool[]? requested = null;
            bool[]? binaryRequested = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    request.Id = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw Invalid("'id' must be a string");
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    reader.Read();
                    binaryByDefault = ReadBoolParameter(ref reader, "binary_data_output"u8) ?? false;
                }
                else if (reader.ValueTextEquals("inputs"u8))
                {
                    reader.Read();
                    ExpectArray(ref reader, "'inputs'");
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        ReadInput(json, ref reader, ref readerOffset, binary, ref binaryOffset, model, pool, request);
                    }
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    reader.Read();
                    ExpectArray(ref reader, "'outputs'");
                    requested = new bool[model.Outputs.Count];
                    binaryRequested = new bool[model.Outputs.Count];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        ReadRequestedOutput(ref reader, model, requested, binaryRequested);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (binaryOffset != binary.Length)
            {
                throw Invalid($"the body has {binary.Length - binaryOffset} bytes of binary data that no input's binary_data_size claims");
            }

            request.RequestedOutputs = requested;
            if (binaryByDefault || binaryRequested is not null && Array.IndexOf(binaryRequested, true) >= 0)
            {
                binaryOutputs = new bool[model.Outputs.Count];
                for (var i = 0; i < binaryOutputs.Length; i++)
                {
                    binaryOutputs[i] = binaryByDefault || binaryRequested![i];
                }
            }

            return request;
        }
        catch (JsonException ex)
        {
            request.Dispose();
            throw Invalid($"malformed JSON: {ex.Message}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            // Utf8JsonReader checks a string (UTF-8, escaped surrogates, base64) only when it is read.
            request.Dispose();
            throw Invalid($"the request body has a string that cannot be read: {ex.Message}");
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static void ReadInput(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, ref int readerOffset, ReadOnlySpan<byte> binary, ref int binaryOffset, ModelVersion model, PinnedBufferPool pool, InferenceRequest request)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid("each entry of 'inputs' must be an object");
        }

        TensorSpec? spec = null;
        string? unknownName = null;
        TensorDataType? datatype = null;
        long[]? shape = null;
        long? binarySize = null;
        var data = default(Utf8JsonReader);
        var hasData = false;
        TensorBufferWriter? parsed = null; // data read in place when the name came first (the usual order)
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw Invalid("an input's 'name' must be a string");
                }

                spec = FindSpec(ref reader, model.Inputs);
                unknownName = spec is null ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || !TensorDataTypes.TryParse(reader.ValueSpan, out var parsedType))
                {
                    throw Invalid($"an input has datatype {Describe(ref reader)}, which is not one of BOOL, UINT8..UINT64, INT8..INT64, FP16, BF16, FP32, FP64, BYTES");
                }

                datatype = parsedType;
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                reader.Read();
                shape = ReadShape(ref reader, spec);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                reader.Read();
                binarySize = ReadInt64Parameter(ref reader, "binary_data_size"u8);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                hasData = true;
                if (spec is not null && parsed is null)
                {
                    parsed = new TensorBufferWriter(pool, 4096);
                    if (spec.DataType != TensorDataType.Fp32 || !JsonTensorReader.TryReadFlatFloats(json, ref reader, ref readerOffset, parsed))
                    {
                        JsonTensorReader.ReadValue(ref reader, spec.DataType, parsed, spec.Name);
                    }
                }
                else
                {
                    data = reader;
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        try
        {
            Complete(ref data, hasData, parsed, spec, unknownName, datatype, shape, json.Length, binarySize, binary, ref binaryOffset, model, pool, request);
        }
        finally
        {
            parsed?.Dispose();
        }
    }

    private static void Complete(
        ref Utf8JsonReader data, bool hasData, TensorBufferWriter? parsed, TensorSpec? spec, string? unknownName, TensorDataType? datatype,
        long[]? shape, long jsonLength, long? binarySize, ReadOnlySpan<byte> binary, ref int binaryOffset, ModelVersion model, PinnedBufferPool pool, InferenceRequest request)
    {
        if (unknownName is not null)
        {
            throw Invalid($"model '{model.ModelName}' has no input '{unknownName}'; its inputs are {string.Join(", ", model.Inputs.Select(i => i.Name))}");
        }

        if (spec is null)
        {
            throw Invalid("an input has no 'name'");
        }

        if (request.Inputs[spec.Index] is not null)
        {
            throw Invalid($"input '{spec.Name}' is given twice");
        }

        if (datatype is null)
        {
            throw Invalid($"input '{spec.Name}' has no 'datatype'");
        }

        if (datatype != spec.DataType)
        {
            throw Invalid($"input '{spec.Name}' has datatype {datatype.Value.ToProtocolName()} but the model expects {spec.DataType.ToProtocolName()}");
        }

        if (shape is null)
        {
            throw Invalid($"input '{spec.Name}' has no 'shape'");
        }

        if (binarySize is { } declared && (declared < 0 || declared > binary.Length - binaryOffset))
        {
            throw Invalid($"input '{spec.Name}' has binary_data_size {declared}, more than the {binary.Length - binaryOffset} bytes left in the body");
        }

        // Nothing is sized from the declared shape before it is known to fit the bytes that came: a JSON element takes
        // at least one byte of the body, a binary one at least its element size (a BYTES one its 4-byte length).
        var carried = binarySize is { } binaryBytes ? binaryBytes / (spec.DataType == TensorDataType.Bytes ? 4 : spec.DataType.ElementSize()) : jsonLength;
        if (TensorShape.Problem(shape, carried) is { } problem)
        {
            throw Invalid($"input '{spec.Name}' {problem}");
        }

        var elements = TensorShape.ElementCount(shape);
        if (binarySize is { } size)
        {
            var bytes = binary.Slice(binaryOffset, (int)size);
            binaryOffset += (int)size;
            var count = spec.DataType == TensorDataType.Bytes ? TensorShape.CountBytesElements(bytes) : size / spec.DataType.ElementSize();
            if (count != elements || (spec.DataType != TensorDataType.Bytes && size % spec.DataType.ElementSize() != 0))
            {
                throw Invalid($"input '{spec.Name}' has {size} bytes of binary data but shape {TensorShape.Format(shape)} of {spec.DataType.ToProtocolName()} needs {elements} elements");
            }

            var tensor = TensorBuffer.Rent(pool, spec.Name, spec.DataType, shape, (int)size);
            bytes.CopyTo(tensor.Span);
            request.Inputs[spec.Index] = tensor;
            return;
        }

        if (!hasData)
        {
            throw Invalid($"input '{spec.Name}' has neither 'data' nor a binary_data_size parameter");
        }

        var writer = parsed ?? new TensorBufferWriter(pool, (int)Math.Min(Math.Max(elements * Math.Max(spec.DataType.ElementSize(), 8), 16), 1 << 26));
        try
        {
            if (parsed is null)
            {
                JsonTensorReader.ReadValue(ref data, spec.DataType, writer, spec.Name);
            }

            if (writer.Count != elements)
            {
                throw Invalid($"input '{spec.Name}' has {writer.Count} elements but shape {TensorShape.Format(shape)} needs {elements}");
            }

            request.Inputs[spec.Index] = writer.Detach(spec.Name, spec.DataType, shape);
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static void ReadRequestedOutput(ref Utf8JsonReader reader, ModelVersion model, bool[] requested, bool[] binary)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid("each entry of 'outputs' must be an object");
        }

        TensorSpec? spec = null;
        string? unknownName = null;
        var asBinary = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw Invalid("an output's 'name' must be a string");
                }

                spec = FindSpec(ref reader, model.Outputs);
                unknownName = spec is null ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                reader.Read();
                asBinary = ReadBoolParameter(ref reader, "binary_data"u8) ?? false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (spec is null)
        {
            throw Invalid(unknownName is null
                ? "a requested output has no 'name'"
                : $"model '{model.ModelName}' has no output '{unknownName}'; its outputs are {string.Join(", ", model.Outputs.Select(o => o.Name))}");
        }

        requested[spec.Index] = true;
        binary[spec.Index] = asBinary;
    }

    private static TensorSpec? FindSpec(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> specs)
    {
        // Indexed: foreach over the interface would allocate an enumerator per request.
        for (var i = 0; i < specs.Count; i++)
        {
            if (reader.ValueTextEquals(specs[i].NameUtf8))
            {
                return specs[i];
            }
        }

        return null;
    }

    /// <summary>Reads a shape; one equal to <paramref name="spec"/>'s (a fixed shape, when the name came first) shares its array.</summary>
    private static long[] ReadShape(ref Utf8JsonReader reader, TensorSpec? spec)
    {
        ExpectArray(ref reader, "'shape'");
        Span<long> dims = stackalloc long[32];
        var rank = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // Rank and signs are checked with the input's name once the whole input is read (TensorShape.Problem).
            if (rank == dims.Length || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim))
            {
                throw Invalid($"{(spec is null ? "an input's" : $"input '{spec.Name}'s")} 'shape' must be an array of 64-bit integers (rank at most {TensorShape.MaxRank})");
            }

            dims[rank++] = dim;
        }

        return spec is not null && dims[..rank].SequenceEqual(spec.Shape) ? spec.Shape : dims[..rank].ToArray();
    }

    private static bool? ReadBoolParameter(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        ExpectParameters(ref reader);
        bool? value = null;
        while (NextParameter(ref reader, name))
        {
            value = reader.TokenType is JsonTokenType.True or JsonTokenType.False
                ? reader.GetBoolean()
                : throw Invalid($"parameter '{System.Text.Encoding.UTF8.GetString(name)}' must be true or false");
        }

        return value;
    }

    private static long? ReadInt64Parameter(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        ExpectParameters(ref reader);
        long? value = null;
        while (NextParameter(ref reader, name))
        {
            value = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var parsed)
                ? parsed
                : throw Invalid($"parameter '{System.Text.Encoding.UTF8.GetString(name)}' must be an integer");
        }

        return value;
    }

    /// <summary>Advances through a parameters object, skipping others, stopping on the value of <paramref name="name"/>.</summary>
    private static bool NextParameter(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match)
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    private static void ExpectParameters(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid("'parameters' must be an object");
        }
    }

    private static void ExpectArray(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid($"{what} must be an array");
        }
    }

    private static string Describe(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? $"'{reader.GetString()}'" : reader.TokenType.ToString();

    private static InferenceException Invalid(string message) => new(InferenceErrorKind.InvalidInput, message);
}
