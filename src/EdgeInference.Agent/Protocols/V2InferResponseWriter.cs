using System.Buffers;
using System.Text.Json;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Runtime.Inference;

namespace EdgeInference.Agent.Protocols;

/// <summary>Writes an Open Inference Protocol v2 infer response: JSON, then binary outputs if asked for.</summary>
internal static class V2InferResponseWriter
{
    /// <summary>Writes the response into <paramref name="buffer"/>; returns the JSON part's length when binary data follows, else -1.</summary>
    public static int Write(ResponseBuffer buffer, InferenceResponse response, bool[]? binaryOutputs)
    {
        var json = buffer.Json;
        var model = response.Model;
        json.WriteStartObject();
        json.WriteString("model_name"u8, model.ModelName);
        json.WriteString("model_version"u8, model.VersionText);
        if (response.Id is not null)
        {
            json.WriteString("id"u8, response.Id);
        }

        json.WriteStartArray("outputs"u8);
        for (var i = 0; i < response.Outputs.Length; i++)
        {
            if (response.Outputs[i] is not { } output)
            {
                continue;
            }

            json.WriteStartObject();
            json.WriteString("name"u8, output.Name);
            json.WriteString("datatype"u8, output.DataType.ToProtocolNameUtf8());
            WriteShape(json, output.Shape);
            if (binaryOutputs is not null && binaryOutputs[i])
            {
                json.WriteStartObject("parameters"u8);
                json.WriteNumber("binary_data_size"u8, output.Length);
                json.WriteEndObject();
            }
            else
            {
                json.WriteStartArray("data"u8);
                JsonTensorWriter.WriteElements(json, output, 0, output.ElementCount);
                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        if (binaryOutputs is null)
        {
            return -1;
        }

        var headerLength = buffer.Output.WrittenCount;
        for (var i = 0; i < response.Outputs.Length; i++)
        {
            if (binaryOutputs[i] && response.Outputs[i] is { } output)
            {
                buffer.Output.Write(output.Span);
            }
        }

        return headerLength;
    }

    public static void WriteShape(Utf8JsonWriter json, long[] shape)
    {
        json.WriteStartArray("shape"u8);
        foreach (var dim in shape)
        {
            json.WriteNumberValue(dim);
        }

        json.WriteEndArray();
    }
}
