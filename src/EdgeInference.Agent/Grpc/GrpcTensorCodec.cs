using System.Runtime.InteropServices;
using System.Text;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Google.Protobuf;

namespace EdgeInference.Agent.Grpc;

/// <summary>
/// Converts v2 gRPC ModelInfer messages to and from pinned tensor buffers: raw_input_contents straight from the wire
/// format, typed contents through the generated protobuf classes.
/// </summary>
internal static class GrpcTensorCodec
{
    /// <summary>
    /// Reads which model a ModelInfer request is for, when its inputs come in raw_input_contents; false for a request
    /// with typed contents, which goes through the generated protobuf parser instead.
    /// </summary>
    public static bool TryReadRawTarget(ReadOnlySpan<byte> message, out string modelName, out string modelVersion)
    {
        ReadOnlySpan<byte> name = default, version = default;
        var raw = false;
        var reader = new ProtoWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, ProtoWireReader.LengthDelimited): name = reader.ReadLengthDelimited(); break;
                case (2, ProtoWireReader.LengthDelimited): version = reader.ReadLengthDelimited(); break;
                case (7, ProtoWireReader.LengthDelimited): raw = true; reader.Skip(wireType); break;
                default: reader.Skip(wireType); break;
            }
        }

        modelName = Encoding.UTF8.GetString(name);
        modelVersion = Encoding.UTF8.GetString(version);
        return raw;
    }

    /// <summary>
    /// Reads a serialized ModelInfer request with raw_input_contents straight into pinned tensor buffers: names are
    /// matched as UTF-8 and each input's bytes are copied once, from the received message.
    /// </summary>
    public static InferenceRequest ReadRawRequest(ReadOnlySpan<byte> message, ModelVersion model, PinnedBufferPool pool)
    {
        int inputCount = 0, rawCount = 0;
        var reader = new ProtoWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (5, ProtoWireReader.LengthDelimited): inputCount++; break;
                case (7, ProtoWireReader.LengthDelimited): rawCount++; break;
            }

            reader.Skip(wireType);
        }

        if (rawCount != inputCount)
        {
            throw Invalid($"raw_input_contents has {rawCount} entries but there are {inputCount} inputs");
        }

        // Where each raw content lies in the message, in order, so the i-th input finds its bytes.
        Span<Range> raws = rawCount <= 16 ? stackalloc Range[16] : new Range[rawCount];
        reader = new ProtoWireReader(message);
        for (var i = 0; reader.TryReadTag(out var field, out var wireType);)
        {
            if (field == 7 && wireType == ProtoWireReader.LengthDelimited)
            {
                raws[i++] = reader.ReadLengthDelimitedRange();
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        var request = new InferenceRequest(model.Inputs.Count);
        try
        {
            bool[]? requested = null;
            reader = new ProtoWireReader(message);
            for (var input = 0; reader.TryReadTag(out var field, out var wireType);)
            {
                switch (field, wireType)
                {
                    case (3, ProtoWireReader.LengthDelimited):
                        var id = reader.ReadLengthDelimited();
                        request.Id = id.IsEmpty ? null : Encoding.UTF8.GetString(id);
                        break;
                    case (5, ProtoWireReader.LengthDelimited):
                        ReadRawInput(reader.ReadLengthDelimited(), message[raws[input++]], model, request, pool);
                        break;
                    case (6, ProtoWireReader.LengthDelimited):
                        requested ??= new bool[model.Outputs.Count];
                        requested[OutputSpec(model, ReadName(reader.ReadLengthDelimited())).Index] = true;
                        break;
                    default:
                        reader.Skip(wireType);
                        break;
                }
            }

            request.RequestedOutputs = requested;
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>Reads a ModelInfer request with typed contents, parsed into protobuf objects.</summary>
    public static InferenceRequest ReadRequest(ModelInferRequest message, ModelVersion model, PinnedBufferPool pool)
    {
        var request = new InferenceRequest(model.Inputs.Count) { Id = string.IsNullOrEmpty(message.Id) ? null : message.Id };
        try
        {
            foreach (var input in message.Inputs)
            {
                var spec = InputSpec(model, request, Encoding.UTF8.GetBytes(input.Name));
                CheckDataType(spec, Encoding.UTF8.GetBytes(input.Datatype));
                var shape = input.Shape.ToArray();
                request.Inputs[spec.Index] = FromContents(input.Contents, spec, shape, ElementCount(spec, shape, ContentsCount(input.Contents)), pool);
            }

            if (message.Outputs.Count > 0)
            {
                var requested = new bool[model.Outputs.Count];
                foreach (var output in message.Outputs)
                {
                    requested[OutputSpec(model, Encoding.UTF8.GetBytes(output.Name)).Index] = true;
                }

                request.RequestedOutputs = requested;
            }

            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>Writes a ModelInfer reply with the outputs in raw_output_contents, straight from the output tensors.</summary>
    public static SerializedMessage WriteRawResponse(InferenceResponse response)
    {
        var model = response.Model;
        var id = response.Id ?? "";
        var size = ProtoWireWriter.StringSize(model.ModelName) + ProtoWireWriter.StringSize(model.VersionText) + ProtoWireWriter.StringSize(id);
        foreach (var output in response.Outputs)
        {
            if (output is not null)
            {
                size += ProtoWireWriter.LengthDelimitedSize(OutputTensorSize(output)) + ProtoWireWriter.LengthDelimitedSize(output.Length);
            }
        }

        var message = SerializedMessage.Rent(size);
        var writer = new ProtoWireWriter(message.Span);
        writer.WriteString(1, model.ModelName);
        writer.WriteString(2, model.VersionText);
        writer.WriteString(3, id);
        foreach (var output in response.Outputs)
        {
            if (output is not null)
            {
                writer.WriteLengthDelimitedHeader(5, OutputTensorSize(output));
                writer.WriteString(1, output.Name);
                writer.WriteBytes(2, output.DataType.ToProtocolNameUtf8());
                writer.WritePackedInt64(3, output.Shape);
            }
        }

        foreach (var output in response.Outputs)
        {
            if (output is not null)
            {
                writer.WriteBytes(6, output.Span);
            }
        }

        return message;
    }

    /// <summary>Writes a ModelInfer reply with typed contents, for requests that sent typed contents.</summary>
    public static SerializedMessage WriteResponse(InferenceResponse response)
    {
        var message = new ModelInferResponse
        {
            ModelName = response.Model.ModelName,
            ModelVersion = response.Model.VersionText,
            Id = response.Id ?? "",
        };
        foreach (var output in response.Outputs)
        {
            if (output is not null)
            {
                var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.DataType.ToProtocolName(), Contents = ToContents(output) };
                tensor.Shape.Add(output.Shape);
                message.Outputs.Add(tensor);
            }
        }

        var serialized = SerializedMessage.Rent(message.CalculateSize());
        message.WriteTo(serialized.Span);
        return serialized;
    }

    private static int OutputTensorSize(TensorBuffer output) =>
        ProtoWireWriter.StringSize(output.Name) + ProtoWireWriter.LengthDelimitedSize(output.DataType.ToProtocolNameUtf8().Length) + ProtoWireWriter.PackedInt64Size(output.Shape);

    private static void ReadRawInput(ReadOnlySpan<byte> tensor, ReadOnlySpan<byte> bytes, ModelVersion model, InferenceRequest request, PinnedBufferPool pool)
    {
        ReadOnlySpan<byte> name = default, datatype = default;
        var rank = 0;
        var reader = new ProtoWireReader(tensor);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, ProtoWireReader.LengthDelimited): name = reader.ReadLengthDelimited(); break;
                case (2, ProtoWireReader.LengthDelimited): datatype = reader.ReadLengthDelimited(); break;
                case (3, ProtoWireReader.Varint): reader.ReadVarint(); rank++; break;
                case (3, ProtoWireReader.LengthDelimited): rank += CountVarints(reader.ReadLengthDelimited()); break;
                default: reader.Skip(wireType); break;
            }
        }

        var spec = InputSpec(model, request, name);
        CheckDataType(spec, datatype);
        if (rank > TensorShape.MaxRank)
        {
            throw Invalid($"input '{spec.Name}' has rank {rank}; at most {TensorShape.MaxRank} is supported");
        }

        // Parsed aside first: a shape equal to the model's (fixed) one shares its array instead of allocating.
        var shape = rank <= 32 ? stackalloc long[rank] : new long[rank];
        reader = new ProtoWireReader(tensor);
        for (var d = 0; reader.TryReadTag(out var field, out var wireType);)
        {
            switch (field, wireType)
            {
                case (3, ProtoWireReader.Varint):
                    var dimension = (long)reader.ReadVarint();
                    shape[d++] = dimension;
                    break;
                case (3, ProtoWireReader.LengthDelimited):
                    var packed = new ProtoWireReader(reader.ReadLengthDelimited());
                    while (packed.Remaining > 0)
                    {
                        // Read before storing: a varint cut short at the end was not counted, and must fail as malformed.
                        var packedDimension = (long)packed.ReadVarint();
                        shape[d++] = packedDimension;
                    }

                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        var dims = shape.SequenceEqual(spec.Shape) ? spec.Shape : shape.ToArray();
        request.Inputs[spec.Index] = FromRaw(bytes, spec, dims, ElementCount(spec, dims, bytes.Length / (spec.DataType == TensorDataType.Bytes ? 4 : spec.DataType.ElementSize())), pool);
    }

    private static int CountVarints(ReadOnlySpan<byte> packed)
    {
        var count = 0;
        foreach (var b in packed)
        {
            count += b < 0x80 ? 1 : 0;
        }

        return count;
    }

    private static ReadOnlySpan<byte> ReadName(ReadOnlySpan<byte> tensor)
    {
        ReadOnlySpan<byte> name = default;
        var reader = new ProtoWireReader(tensor);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == 1 && wireType == ProtoWireReader.LengthDelimited)
            {
                name = reader.ReadLengthDelimited();
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return name;
    }

    private static TensorSpec InputSpec(ModelVersion model, InferenceRequest request, ReadOnlySpan<byte> name)
    {
        var spec = Find(model.Inputs, name)
            ?? throw Invalid($"model '{model.ModelName}' has no input '{Encoding.UTF8.GetString(name)}'; its inputs are {string.Join(", ", model.Inputs.Select(s => s.Name))}");
        if (request.Inputs[spec.Index] is not null)
        {
            throw Invalid($"input '{spec.Name}' is given twice");
        }

        return spec;
    }

    private static TensorSpec OutputSpec(ModelVersion model, ReadOnlySpan<byte> name) =>
        Find(model.Outputs, name)
            ?? throw Invalid($"model '{model.ModelName}' has no output '{Encoding.UTF8.GetString(name)}'; its outputs are {string.Join(", ", model.Outputs.Select(s => s.Name))}");

    private static TensorSpec? Find(IReadOnlyList<TensorSpec> specs, ReadOnlySpan<byte> name)
    {
        // Indexed: foreach over the interface would allocate an enumerator per request.
        for (var i = 0; i < specs.Count; i++)
        {
            if (name.SequenceEqual(specs[i].NameUtf8))
            {
                return specs[i];
            }
        }

        return null;
    }

    private static void CheckDataType(TensorSpec spec, ReadOnlySpan<byte> datatype)
    {
        if (!TensorDataTypes.TryParse(datatype, out var parsed))
        {
            throw Invalid($"input '{spec.Name}' has datatype '{Encoding.UTF8.GetString(datatype)}', which is not a v2 datatype");
        }

        if (parsed != spec.DataType)
        {
            throw Invalid($"input '{spec.Name}' has datatype {Encoding.UTF8.GetString(datatype)} but the model expects {spec.DataType.ToProtocolName()}");
        }
    }

    /// <summary>The shape's element count, once it is known to fit the <paramref name="carried"/> elements the request's bytes can hold.</summary>
    private static long ElementCount(TensorSpec spec, long[] shape, long carried) =>
        TensorShape.Problem(shape, carried) is { } problem ? throw Invalid($"input '{spec.Name}' {problem}") : TensorShape.ElementCount(shape);

    private static long ContentsCount(InferTensorContents? contents) => contents is null ? 0 :
        (long)contents.BoolContents.Count + contents.IntContents.Count + contents.Int64Contents.Count + contents.UintContents.Count
        + contents.Uint64Contents.Count + contents.Fp32Contents.Count + contents.Fp64Contents.Count + contents.BytesContents.Count;

    private static TensorBuffer FromRaw(ReadOnlySpan<byte> bytes, TensorSpec spec, long[] shape, long elements, PinnedBufferPool pool)
    {
        var count = spec.DataType == TensorDataType.Bytes ? TensorShape.CountBytesElements(bytes) : bytes.Length / spec.DataType.ElementSize();
        if (count != elements || (spec.DataType != TensorDataType.Bytes && bytes.Length % spec.DataType.ElementSize() != 0))
        {
            throw Invalid($"input '{spec.Name}' has {bytes.Length} raw bytes but shape {TensorShape.Format(shape)} of {spec.DataType.ToProtocolName()} needs {elements} elements");
        }

        var tensor = TensorBuffer.Rent(pool, spec.Name, spec.DataType, shape, bytes.Length);
        bytes.CopyTo(tensor.Span);
        return tensor;
    }

    private static TensorBuffer FromContents(InferTensorContents? contents, TensorSpec spec, long[] shape, long elements, PinnedBufferPool pool)
    {
        if (contents is null)
        {
            throw Invalid($"input '{spec.Name}' has neither contents nor raw_input_contents");
        }

        using var writer = new TensorBufferWriter(pool, (int)Math.Max(16, elements * Math.Max(1, spec.DataType.ElementSize())));
        switch (spec.DataType)
        {
            case TensorDataType.Fp32: foreach (var v in contents.Fp32Contents) { writer.Append(v); } break;
            case TensorDataType.Fp64: foreach (var v in contents.Fp64Contents) { writer.Append(v); } break;
            case TensorDataType.Bool: foreach (var v in contents.BoolContents) { writer.Append(v ? (byte)1 : (byte)0); } break;
            case TensorDataType.Int8: foreach (var v in contents.IntContents) { writer.Append(checked((sbyte)v)); } break;
            case TensorDataType.Int16: foreach (var v in contents.IntContents) { writer.Append(checked((short)v)); } break;
            case TensorDataType.Int32: foreach (var v in contents.IntContents) { writer.Append(v); } break;
            case TensorDataType.Int64: foreach (var v in contents.Int64Contents) { writer.Append(v); } break;
            case TensorDataType.UInt8: foreach (var v in contents.UintContents) { writer.Append(checked((byte)v)); } break;
            case TensorDataType.UInt16: foreach (var v in contents.UintContents) { writer.Append(checked((ushort)v)); } break;
            case TensorDataType.UInt32: foreach (var v in contents.UintContents) { writer.Append(v); } break;
            case TensorDataType.UInt64: foreach (var v in contents.Uint64Contents) { writer.Append(v); } break;
            case TensorDataType.Bytes: foreach (var v in contents.BytesContents) { writer.AppendBytesElement(v.Span); } break;
            default: throw Invalid($"input '{spec.Name}' is {spec.DataType.ToProtocolName()}, which travels only in raw_input_contents");
        }

        if (writer.Count != elements)
        {
            throw Invalid($"input '{spec.Name}' has {writer.Count} elements but shape {TensorShape.Format(shape)} needs {elements}");
        }

        return writer.Detach(spec.Name, spec.DataType, shape);
    }

    private static InferTensorContents ToContents(TensorBuffer output)
    {
        var contents = new InferTensorContents();
        var data = (ReadOnlySpan<byte>)output.Span;
        switch (output.DataType)
        {
            case TensorDataType.Fp32: contents.Fp32Contents.Add(MemoryMarshal.Cast<byte, float>(data).ToArray()); break;
            case TensorDataType.Fp64: contents.Fp64Contents.Add(MemoryMarshal.Cast<byte, double>(data).ToArray()); break;
            case TensorDataType.Int64: contents.Int64Contents.Add(MemoryMarshal.Cast<byte, long>(data).ToArray()); break;
            case TensorDataType.UInt64: contents.Uint64Contents.Add(MemoryMarshal.Cast<byte, ulong>(data).ToArray()); break;
            case TensorDataType.Bool: foreach (var b in data) { contents.BoolContents.Add(b != 0); } break;
            case TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32:
                for (var i = 0; i < output.ElementCount; i++) { contents.IntContents.Add((int)TensorValues.Get(data, output.DataType, i)); }
                break;
            case TensorDataType.UInt8 or TensorDataType.UInt16 or TensorDataType.UInt32:
                for (var i = 0; i < output.ElementCount; i++) { contents.UintContents.Add((uint)TensorValues.Get(data, output.DataType, i)); }
                break;
            case TensorDataType.Bytes:
                while (!data.IsEmpty)
                {
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data);
                    contents.BytesContents.Add(ByteString.CopyFrom(data.Slice(4, length)));
                    data = data[(4 + length)..];
                }

                break;
            default: // FP16 and BF16 have no typed field: they go raw even when the request was typed.
                throw new InferenceException(InferenceErrorKind.InvalidInput, $"output '{output.Name}' is {output.DataType.ToProtocolName()}, which travels only raw; send inputs in raw_input_contents");
        }

        return contents;
    }

    private static InferenceException Invalid(string message) => new(InferenceErrorKind.InvalidInput, message);
}
