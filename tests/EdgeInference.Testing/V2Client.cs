using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Runtime.Tensors;
using Google.Protobuf;

namespace EdgeInference.Testing;

/// <summary>A plain client of the agent's v2 APIs (JSON, binary extension, gRPC), written from the protocol, not from the agent's code.</summary>
public static class V2Client
{
    public static string JsonRequest(IReadOnlyList<NamedTensor> inputs, string? id = null)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            if (id is not null)
            {
                json.WriteString("id", id);
            }

            json.WriteStartArray("inputs");
            foreach (var input in inputs)
            {
                json.WriteStartObject();
                json.WriteString("name", input.Name);
                json.WriteString("datatype", input.Type.ToProtocolName());
                json.WriteStartArray("shape");
                foreach (var d in input.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data");
                WriteElements(json, input);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static async Task<IReadOnlyList<NamedTensor>> InferJsonAsync(HttpClient http, string model, IReadOnlyList<NamedTensor> inputs, string? version = null)
    {
        using var content = new StringContent(JsonRequest(inputs), System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(InferPath(model, version), content);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode}: {body}", null, response.StatusCode);
        }

        return ParseJsonOutputs(JsonNode.Parse(body)!);
    }

    /// <summary>
    /// A request body in the binary tensor data extension carrying every input and asking for every output in binary:
    /// the JSON header, then the inputs' bytes; <c>HeaderLength</c> goes in Inference-Header-Content-Length.
    /// </summary>
    public static (byte[] Body, int HeaderLength) BinaryRequest(IReadOnlyList<NamedTensor> inputs)
    {
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(inputs.Select(i => (JsonNode)new JsonObject
            {
                ["name"] = i.Name,
                ["datatype"] = i.Type.ToProtocolName(),
                ["shape"] = new JsonArray(i.Shape.Select(d => (JsonNode)d).ToArray()),
                ["parameters"] = new JsonObject { ["binary_data_size"] = i.Data.Length },
            }).ToArray()),
            ["parameters"] = new JsonObject { ["binary_data_output"] = true },
        };
        var headerBytes = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        return (headerBytes.Concat(inputs.SelectMany(i => i.Data)).ToArray(), headerBytes.Length);
    }

    /// <summary>Sends every input and asks for every output in the binary tensor data extension.</summary>
    public static async Task<IReadOnlyList<NamedTensor>> InferBinaryAsync(HttpClient http, string model, IReadOnlyList<NamedTensor> inputs)
    {
        var (body, headerLength) = BinaryRequest(inputs);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", headerLength.ToString(CultureInfo.InvariantCulture));
        using var response = await http.PostAsync(InferPath(model, null), content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}", null, response.StatusCode);
        }

        var jsonLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), CultureInfo.InvariantCulture);
        var json = JsonNode.Parse(bytes.AsSpan(0, jsonLength))!;
        var offset = jsonLength;
        var outputs = new List<NamedTensor>();
        foreach (var output in json["outputs"]!.AsArray())
        {
            var size = output!["parameters"]!["binary_data_size"]!.GetValue<int>();
            TensorDataTypes.TryParse(output["datatype"]!.GetValue<string>(), out var type);
            outputs.Add(new NamedTensor(output["name"]!.GetValue<string>(), type, Shape(output), bytes.AsSpan(offset, size).ToArray()));
            offset += size;
        }

        return outputs;
    }

    public static async Task<IReadOnlyList<NamedTensor>> InferGrpcAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, IReadOnlyList<NamedTensor> inputs, bool raw = true)
    {
        var request = new ModelInferRequest { ModelName = model };
        foreach (var input in inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.Type.ToProtocolName() };
            tensor.Shape.Add(input.Shape);
            if (raw)
            {
                request.RawInputContents.Add(ByteString.CopyFrom(input.Data));
            }
            else
            {
                tensor.Contents = new InferTensorContents();
                tensor.Contents.Fp32Contents.Add(input.AsFloats());
            }

            request.Inputs.Add(tensor);
        }

        return OutputsOf(await client.ModelInferAsync(request));
    }

    /// <summary>The outputs of a v2 gRPC ModelInfer reply, from raw_output_contents or typed FP32 contents.</summary>
    public static IReadOnlyList<NamedTensor> OutputsOf(ModelInferResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var outputs = new List<NamedTensor>();
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            TensorDataTypes.TryParse(output.Datatype, out var type);
            var data = response.RawOutputContents.Count > 0
                ? response.RawOutputContents[i].ToByteArray()
                : MemoryMarshal.AsBytes(output.Contents.Fp32Contents.ToArray().AsSpan()).ToArray();
            outputs.Add(new NamedTensor(output.Name, type, output.Shape.ToArray(), data));
        }

        return outputs;
    }

    public static IReadOnlyList<NamedTensor> ParseJsonOutputs(JsonNode response)
    {
        var outputs = new List<NamedTensor>();
        foreach (var output in response["outputs"]!.AsArray())
        {
            TensorDataTypes.TryParse(output!["datatype"]!.GetValue<string>(), out var type);
            outputs.Add(new NamedTensor(output["name"]!.GetValue<string>(), type, Shape(output), ReadElements(output["data"]!.AsArray(), type)));
        }

        return outputs;
    }

    private static string InferPath(string model, string? version) =>
        version is null ? $"/v2/models/{model}/infer" : $"/v2/models/{model}/versions/{version}/infer";

    private static long[] Shape(JsonNode output) => output["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();

    private static void WriteElements(Utf8JsonWriter json, NamedTensor tensor)
    {
        if (tensor.Type == TensorDataType.Bytes)
        {
            var data = tensor.Data.AsSpan();
            while (!data.IsEmpty)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                json.WriteStringValue(System.Text.Encoding.UTF8.GetString(data.Slice(4, length)));
                data = data[(4 + length)..];
            }

            return;
        }

        var count = tensor.Data.Length / tensor.Type.ElementSize();
        for (var i = 0; i < count; i++)
        {
            var value = TensorValues.Get(tensor.Data, tensor.Type, i);
            switch (tensor.Type)
            {
                case TensorDataType.Bool: json.WriteBooleanValue(value != 0); break;
                case TensorDataType.Fp32: json.WriteNumberValue((float)value); break;
                case TensorDataType.Fp64 or TensorDataType.Fp16 or TensorDataType.Bf16: json.WriteNumberValue(value); break;
                case TensorDataType.UInt64: json.WriteNumberValue(MemoryMarshal.Cast<byte, ulong>(tensor.Data)[i]); break;
                case TensorDataType.Int64: json.WriteNumberValue(MemoryMarshal.Cast<byte, long>(tensor.Data)[i]); break;
                default: json.WriteNumberValue((long)value); break;
            }
        }
    }

    private static byte[] ReadElements(JsonArray data, TensorDataType type)
    {
        using var stream = new MemoryStream();
        foreach (var node in data)
        {
            var element = node!.AsValue();
            switch (type)
            {
                case TensorDataType.Bytes:
                    var text = System.Text.Encoding.UTF8.GetBytes(element.GetValue<string>());
                    stream.Write(BitConverter.GetBytes(text.Length));
                    stream.Write(text);
                    break;
                case TensorDataType.Bool: stream.WriteByte(element.GetValue<bool>() ? (byte)1 : (byte)0); break;
                case TensorDataType.Fp32: stream.Write(BitConverter.GetBytes(element.GetValue<float>())); break;
                case TensorDataType.Fp64: stream.Write(BitConverter.GetBytes(element.GetValue<double>())); break;
                case TensorDataType.Fp16: stream.Write(BitConverter.GetBytes((Half)element.GetValue<double>())); break;
                case TensorDataType.Bf16: stream.Write(BitConverter.GetBytes(TensorValues.ToBFloat16(element.GetValue<float>()))); break;
                case TensorDataType.Int8: stream.WriteByte((byte)element.GetValue<sbyte>()); break;
                case TensorDataType.UInt8: stream.WriteByte(element.GetValue<byte>()); break;
                case TensorDataType.Int16: stream.Write(BitConverter.GetBytes(element.GetValue<short>())); break;
                case TensorDataType.UInt16: stream.Write(BitConverter.GetBytes(element.GetValue<ushort>())); break;
                case TensorDataType.Int32: stream.Write(BitConverter.GetBytes(element.GetValue<int>())); break;
                case TensorDataType.UInt32: stream.Write(BitConverter.GetBytes(element.GetValue<uint>())); break;
                case TensorDataType.Int64: stream.Write(BitConverter.GetBytes(element.GetValue<long>())); break;
                case TensorDataType.UInt64: stream.Write(BitConverter.GetBytes(element.GetValue<ulong>())); break;
            }
        }

        return stream.ToArray();
    }
}
