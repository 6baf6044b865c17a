using System.Text.Json;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Protocols;

/// <summary>
/// TF Serving's v1 predict request and response, in the row ("instances") and the columnar ("inputs")
/// forms. Shapes come from the nesting of the JSON arrays; element types from the model.
/// </summary>
internal static class TfServingCodec
{
    /// <summary>Parses a predict body; <paramref name="rows"/> is the instance count (-1 for the columnar form).</summary>
    public static InferenceRequest Read(ReadOnlySpan<byte> json, ModelVersion model, PinnedBufferPool pool, out int rows)
    {
        var request = new InferenceRequest(model.Inputs.Count);
        rows = -1;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid("the request body must be a JSON object with \"instances\" or \"inputs\"");
            }

            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("instances"u8))
                {
                    reader.Read();
                    rows = ReadInstances(ref reader, model, pool, request);
                    found = true;
                }
                else if (reader.ValueTextEquals("inputs"u8))
                {
                    reader.Read();
                    ReadColumns(ref reader, model, pool, request);
                    found = true;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (!found)
            {
                throw Invalid("the request needs \"instances\" (row form) or \"inputs\" (columnar form)");
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

    /// <summary>Writes <c>{"predictions": [...]}</c> for the row form, or <c>{"outputs": ...}</c> for the columnar form.</summary>
    public static void Write(Utf8JsonWriter json, InferenceResponse response, int rows)
    {
        var outputs = response.Outputs.Where(o => o is not null).Select(o => o!).ToArray();
        json.WriteStartObject();
        if (rows < 0)
        {
            json.WritePropertyName("outputs"u8);
            if (outputs.Length == 1)
            {
                JsonTensorWriter.WriteNested(json, outputs[0], outputs[0].Shape, 0);
            }
            else
            {
                json.WriteStartObject();
                foreach (var output in outputs)
                {
                    json.WritePropertyName(output.Name);
                    JsonTensorWriter.WriteNested(json, output, output.Shape, 0);
                }

                json.WriteEndObject();
            }
        }
        else
        {
            json.WriteStartArray("predictions"u8);
            for (var row = 0; row < rows; row++)
            {
                if (outputs.Length == 1)
                {
                    WriteRow(json, outputs[0], row, rows);
                }
                else
                {
                    json.WriteStartObject();
                    foreach (var output in outputs)
                    {
                        json.WritePropertyName(output.Name);
                        WriteRow(json, output, row, rows);
                    }

                    json.WriteEndObject();
                }
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteRow(Utf8JsonWriter json, TensorBuffer output, int row, int rows)
    {
        if (output.Shape.Length == 0 || output.Shape[0] != rows)
        {
            throw new InferenceException(InferenceErrorKind.InvalidInput,
                $"output '{output.Name}' has shape {TensorShape.Format(output.Shape)}, which has no batch dimension of {rows} to split into predictions; use the \"inputs\" form");
        }

        var inner = output.Shape.AsSpan(1);
        JsonTensorWriter.WriteNested(json, output, inner, row * TensorShape.ElementCount(inner));
    }

    private static int ReadInstances(ref Utf8JsonReader reader, ModelVersion model, PinnedBufferPool pool, InferenceRequest request)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid("\"instances\" must be an array");
        }

        var writers = new TensorBufferWriter[model.Inputs.Count];
        var shapes = new long[]?[model.Inputs.Count];
        try
        {
            for (var i = 0; i < writers.Length; i++)
            {
                writers[i] = new TensorBufferWriter(pool);
            }

            var rows = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.StartObject && !IsB64Value(reader, model))
                {
                    var seen = new bool[model.Inputs.Count];
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var spec = FindInput(ref reader, model);
                        reader.Read();
                        seen[spec.Index] = true;
                        ReadInstanceValue(ref reader, spec, writers, shapes, rows);
                    }

                    var missing = Array.IndexOf(seen, false);
                    if (missing >= 0)
                    {
                        throw Invalid($"instance {rows} has no input '{model.Inputs[missing].Name}'");
                    }
                }
                else
                {
                    if (model.Inputs.Count != 1)
                    {
                        throw Invalid($"model '{model.ModelName}' has {model.Inputs.Count} inputs, so each instance must be an object naming them");
                    }

                    ReadInstanceValue(ref reader, model.Inputs[0], writers, shapes, rows);
                }

                rows++;
            }

            if (rows == 0)
            {
                throw Invalid("\"instances\" is empty");
            }

            for (var i = 0; i < writers.Length; i++)
            {
                var spec = model.Inputs[i];
                request.Inputs[i] = writers[i].Detach(spec.Name, spec.DataType, [rows, .. shapes[i]!]);
            }

            return rows;
        }
        finally
        {
            foreach (var writer in writers)
            {
                writer?.Dispose();
            }
        }
    }

    private static void ReadInstanceValue(ref Utf8JsonReader reader, TensorSpec spec, TensorBufferWriter[] writers, long[]?[] shapes, int row)
    {
        var shape = JsonTensorReader.ReadValue(ref reader, spec.DataType, writers[spec.Index], spec.Name);
        if (shapes[spec.Index] is null)
        {
            shapes[spec.Index] = shape;
        }
        else if (!shapes[spec.Index].AsSpan().SequenceEqual(shape))
        {
            throw Invalid($"instance {row} of input '{spec.Name}' has shape {TensorShape.Format(shape)} but instance 0 has {TensorShape.Format(shapes[spec.Index])}");
        }
    }

    private static void ReadColumns(ref Utf8JsonReader reader, ModelVersion model, PinnedBufferPool pool, InferenceRequest request)
    {
        if (reader.TokenType == JsonTokenType.StartObject && !IsB64Value(reader, model))
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var spec = FindInput(ref reader, model);
                reader.Read();
                request.Inputs[spec.Index]?.Dispose();
                request.Inputs[spec.Index] = ReadColumn(ref reader, spec, pool);
            }

            return;
        }

        if (model.Inputs.Count != 1)
        {
            throw Invalid($"model '{model.ModelName}' has {model.Inputs.Count} inputs, so \"inputs\" must be an object naming them");
        }

        request.Inputs[0] = ReadColumn(ref reader, model.Inputs[0], pool);
    }

    private static TensorBuffer ReadColumn(ref Utf8JsonReader reader, TensorSpec spec, PinnedBufferPool pool)
    {
        using var writer = new TensorBufferWriter(pool);
        var shape = JsonTensorReader.ReadValue(ref reader, spec.DataType, writer, spec.Name);
        return writer.Detach(spec.Name, spec.DataType, shape);
    }

    /// <summary>Whether the object under the reader is TF Serving's <c>{"b64": "..."}</c> value rather than named inputs.</summary>
    private static bool IsB64Value(Utf8JsonReader peek, ModelVersion model) =>
        peek.Read() && peek.TokenType == JsonTokenType.PropertyName && peek.ValueTextEquals("b64"u8)
        && !model.Inputs.Any(i => i.Name == "b64");

    private static TensorSpec FindInput(ref Utf8JsonReader reader, ModelVersion model)
    {
        foreach (var spec in model.Inputs)
        {
            if (reader.ValueTextEquals(spec.NameUtf8))
            {
                return spec;
            }
        }

        throw Invalid($"model '{model.ModelName}' has no input '{reader.GetString()}'; its inputs are {string.Join(", ", model.Inputs.Select(i => i.Name))}");
    }

    private static InferenceException Invalid(string message) => new(InferenceErrorKind.InvalidInput, message);
}
