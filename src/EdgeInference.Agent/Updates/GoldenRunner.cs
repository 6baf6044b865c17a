using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EdgeInference.Agent.Protocols;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Updates;

/// <summary>Runs a package's golden vectors through a loaded model version, through the same request reader the HTTP API uses.</summary>
public static class GoldenRunner
{
    /// <summary>Reads <c>golden.json</c>; throws <see cref="PackageRejectedException"/> (malformed) naming the problem.</summary>
    public static GoldenSet Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), PackageJsonContext.Default.GoldenSet)
                ?? throw new PackageRejectedException(RejectionReasons.Malformed, $"{path} is empty");
        }
        catch (JsonException ex)
        {
            throw new PackageRejectedException(RejectionReasons.Malformed, $"golden vectors: {ex.Message}");
        }
    }

    public static async Task<GoldenOutcome> RunAsync(ModelVersion model, GoldenSet golden, PinnedBufferPool pool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(golden);
        var passed = 0;
        string? firstFailure = null;
        for (var i = 0; i < golden.Cases.Count; i++)
        {
            var name = golden.Cases[i].Name ?? $"case {i + 1}";
            var failure = await RunCaseAsync(model, golden, golden.Cases[i], pool, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                passed++;
            }
            else
            {
                firstFailure ??= $"{name}: {failure}";
            }
        }

        return new GoldenOutcome(passed, golden.Cases.Count, firstFailure);
    }

    private static async Task<string?> RunCaseAsync(ModelVersion model, GoldenSet golden, GoldenCase test, PinnedBufferPool pool, CancellationToken cancellationToken)
    {
        InferenceRequest request;
        try
        {
            request = V2InferRequestReader.Read(RequestJson(test), [], model, pool, out _);
        }
        catch (Exception ex) when (ex is FormatException or InferenceException)
        {
            return "its inputs do not fit the model: " + ex.Message;
        }

        using (request)
        {
            try
            {
                using var response = await model.InferAsync(request, cancellationToken).ConfigureAwait(false);
                foreach (var expected in test.Expected)
                {
                    var index = model.OutputIndex(expected.Name);
                    if (index < 0 || response.Outputs[index] is not { } actual)
                    {
                        return $"the model has no output '{expected.Name}'";
                    }

                    if (Compare(actual, expected, golden) is { } mismatch)
                    {
                        return mismatch;
                    }
                }

                return null;
            }
            catch (InferenceException ex)
            {
                return "inference failed: " + ex.Message;
            }
        }
    }

    private static string? Compare(TensorBuffer actual, GoldenTensor expected, GoldenSet golden)
    {
        if (expected.Shape.Count > 0 && !actual.Shape.AsSpan().SequenceEqual(expected.Shape.ToArray()))
        {
            return $"output '{expected.Name}' has shape {TensorShape.Format(actual.Shape)}, expected {TensorShape.Format(expected.Shape.ToArray())}";
        }

        if (actual.ElementCount != expected.Data.Count)
        {
            return $"output '{expected.Name}' has {actual.ElementCount} elements, expected {expected.Data.Count}";
        }

        for (var i = 0; i < expected.Data.Count; i++)
        {
            var value = TensorValues.Get(actual.Span, actual.DataType, i);
            var want = expected.Data[i];
            if (!(Math.Abs(value - want) <= golden.AbsoluteTolerance + (golden.RelativeTolerance * Math.Abs(want))))
            {
                return string.Create(CultureInfo.InvariantCulture, $"output '{expected.Name}'[{i}] is {value:G9}, expected {want:G9} (tolerance {golden.AbsoluteTolerance:G3} + {golden.RelativeTolerance:G3}×|expected|)");
            }
        }

        return null;
    }

    /// <summary>The case's inputs as an Open Inference Protocol v2 request body.</summary>
    /// <summary>A golden case's inputs as an Open Inference Protocol v2 JSON request.</summary>
    internal static byte[] RequestJson(GoldenCase test)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            foreach (var input in test.Inputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", input.Name);
                writer.WriteString("datatype", input.Datatype);
                writer.WriteStartArray("shape");
                foreach (var dimension in input.Shape)
                {
                    writer.WriteNumberValue(dimension);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data");
                var boolean = input.Datatype == "BOOL";
                foreach (var value in input.Data)
                {
                    if (boolean)
                    {
                        writer.WriteBooleanValue(value != 0);
                    }
                    else
                    {
                        writer.WriteNumberValue(value);
                    }
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
