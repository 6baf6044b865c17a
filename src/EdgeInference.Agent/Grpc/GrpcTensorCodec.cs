using System.Runtime.InteropServices;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Google.Protobuf;

namespace EdgeInference.Agent.Grpc;

/// <summary>Converts v2 gRPC tensors (typed contents or raw_input_contents) to and from pinned tensor buffers.</summary>
internal static class GrpcTensorCodec
{
    public static InferenceRequest ReadRequest(ModelInferRequest message, ModelVersion model, PinnedBufferPool pool)
    {
        var request = new InferenceRequest(model.Inputs.Count) { Id = string.IsNullOrEmpty(message.Id) ? null : message.Id };
        try
        {
            var raw = message.RawInputContents;
            if (raw.Count > 0 && raw.Count != message.Inputs.Count)
            {
                throw Invalid($"raw_input_contents has {raw.Count} entries but there are {message.Inputs.Count} inputs");
            }

            for (var i = 0; i < message.Inputs.Count; i++)
            {
                var input = message.Inputs[i];
                var spec = model.Inputs.FirstOrDefault(s => s.Name == input.Name)
                    ?? throw Invalid($"model '{model.ModelName}' has no input '{input.Name}'; its inputs are {string.Join(", ", model.Inputs.Select(s => s.Name))}");
                if (request.Inputs[spec.Index] is not null)
                {
                    throw Invalid($"input '{spec.Name}' is given twice");
                }

                if (!TensorDataTypes.TryParse(input.Datatype, out var datatype))
                {
                    throw Invalid($"input '{spec.Name}' has datatype '{input.Datatype}', which is not a v2 datatype");
                }

                if (datatype != spec.DataType)
                {
                    throw Invalid($"input '{spec.Name}' has datatype {input.Datatype} but the model expects {spec.DataType.ToProtocolName()}");
                }

                var shape = input.Shape.ToArray();
                var elements = TensorShape.ElementCount(shape);
                if (elements < 0)
                {
                    throw Invalid($"input '{spec.Name}' has an invalid or too large shape {TensorShape.Format(shape)}");
                }

                request.Inputs[spec.Index] = raw.Count > 0
                    ? FromRaw(raw[i].Span, spec, shape, elements, pool)
                    : FromContents(input.Contents, spec, shape, elements, pool);
            }

            if (message.Outputs.Count > 0)
            {
                var requested = new bool[model.Outputs.Count];
                foreach (var output in message.Outputs)
                {
                    var spec = model.Outputs.FirstOrDefault(s => s.Name == output.Name)
                        ?? throw Invalid($"model '{model.ModelName}' has no output '{output.Name}'; its outputs are {string.Join(", ", model.Outputs.Select(s => s.Name))}");
                    requested[spec.Index] = true;
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

    public static ModelInferResponse WriteResponse(InferenceResponse response, bool raw)
    {
        var message = new ModelInferResponse
        {
            ModelName = response.Model.ModelName,
            ModelVersion = response.Model.VersionText,
            Id = response.Id ?? "",
        };
        foreach (var output in response.Outputs)
        {
            if (output is null)
            {
                continue;
            }

            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.DataType.ToProtocolName() };
            tensor.Shape.Add(output.Shape);
            if (raw)
            {
                message.RawOutputContents.Add(ByteString.CopyFrom(output.Span));
            }
            else
            {
                tensor.Contents = ToContents(output);
            }

            message.Outputs.Add(tensor);
        }

        return message;
    }

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
