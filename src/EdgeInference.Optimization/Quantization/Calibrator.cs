using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// Runs a model with ONNX Runtime over calibration inputs and measures the tensors asked for, reading them as extra
/// graph outputs. Tensors inside <c>If</c> branches are brought out through new outputs of the branches and of the
/// <c>If</c> node (the branch not taken gives an empty tensor), so that weights kept in subgraphs are calibrated too.
/// </summary>
internal static class Calibrator
{
    private const int HistogramBins = 2048;
    private const int QuantizedBins = 128;

    public static Dictionary<string, TensorRange> Measure(
        ModelProto model,
        IReadOnlySet<string> tensors,
        List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> samples,
        CalibrationMethod method,
        double percentile)
    {
        var augmented = model.Clone();
        var counter = 0;
        var surfaced = Surface(augmented.Graph, tensors, ref counter);
        var existing = augmented.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (value, _) in surfaced.Where(s => !existing.Contains(s.Value)))
        {
            augmented.Graph.Output.Add(new ValueInfoProto { Name = value });
        }

        // One thread: a float sum split differently over threads can move a range by an ulp, and the same inputs must give the same bytes.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        InferenceSession session;
        try
        {
            session = new InferenceSession(augmented.ToByteArray(), options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load the model with its calibration outputs: {ex.Message}", ex);
        }

        using (session)
        {
            var outputs = surfaced.Select(s => s.Value).Distinct(StringComparer.Ordinal).ToArray();
            var tensorOf = surfaced.GroupBy(s => s.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Tensor, StringComparer.Ordinal);

            // The model's own inputs are measured from the samples themselves.
            foreach (var input in session.InputMetadata.Keys.Where(tensors.Contains))
            {
                tensorOf[input] = input;
            }

            var extremes = new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal);
            Pass(session, samples, outputs, tensorOf, (value, data) =>
            {
                var tensor = tensorOf[value];
                var (min, max) = extremes.TryGetValue(tensor, out var seen) ? seen : (float.PositiveInfinity, float.NegativeInfinity);
                foreach (var v in data)
                {
                    if (!float.IsNaN(v))
                    {
                        min = Math.Min(min, v);
                        max = Math.Max(max, v);
                    }
                }

                extremes[tensor] = (min, max);
            });

            var measured = extremes.Where(e => e.Value.Min <= e.Value.Max).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            if (method == CalibrationMethod.MinMax)
            {
                return measured.ToDictionary(e => e.Key, e => new TensorRange(e.Value.Min, e.Value.Max, e.Value.Min, e.Value.Max), StringComparer.Ordinal);
            }

            // A second pass fills histograms over the ranges the first found, so every input lands in the same bins.
            var magnitudes = method == CalibrationMethod.Percentile;
            var histograms = measured.ToDictionary(
                e => e.Key,
                e => new RangeHistogram(HistogramBins, Math.Max(Math.Abs(e.Value.Min), Math.Abs(e.Value.Max)), magnitudes),
                StringComparer.Ordinal);
            Pass(session, samples, outputs, tensorOf, (value, data) =>
            {
                if (histograms.TryGetValue(tensorOf[value], out var histogram))
                {
                    histogram.Add(data);
                }
            });

            return measured.ToDictionary(
                e => e.Key,
                e =>
                {
                    var (low, high) = magnitudes ? histograms[e.Key].Percentile(percentile) : histograms[e.Key].Entropy(QuantizedBins);

                    // Never wider than what was seen, as ORT clips it.
                    return new TensorRange(e.Value.Min, e.Value.Max, Math.Max(low, e.Value.Min), Math.Min(high, e.Value.Max));
                },
                StringComparer.Ordinal);
        }
    }

    private static void Pass(
        InferenceSession session,
        List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> samples,
        string[] outputs,
        Dictionary<string, string> tensorOf,
        Action<string, ReadOnlySpan<float>> observe)
    {
        var names = session.InputMetadata.Keys.ToArray();
        foreach (var (source, tensors) in samples)
        {
            var values = new List<OrtValue>();
            try
            {
                foreach (var name in names)
                {
                    if (!tensors.TryGetValue(name, out var tensor))
                    {
                        throw new InvalidDataException($"{source}: the model's input '{name}' is missing");
                    }

                    values.Add(OrtValue.CreateTensorValueFromMemory(tensor.Data, tensor.Shape));
                }

                foreach (var name in names.Where(tensorOf.ContainsKey))
                {
                    observe(name, tensors[name].Data);
                }

                using var run = new RunOptions();
                using var results = session.Run(run, names, values, outputs);
                for (var i = 0; i < outputs.Length; i++)
                {
                    if (results[i].IsTensor && results[i].GetTensorTypeAndShape().ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float)
                    {
                        observe(outputs[i], results[i].GetTensorDataAsSpan<float>());
                    }
                }
            }
            catch (OnnxRuntimeException ex)
            {
                throw new InvalidDataException($"{source}: {ex.Message}", ex);
            }
            finally
            {
                foreach (var value in values)
                {
                    value.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// The values of <paramref name="graph"/> that carry the wanted tensors: its own node outputs, and new outputs of
    /// its <c>If</c> nodes for tensors made inside their branches.
    /// </summary>
    private static List<(string Value, string Tensor)> Surface(GraphProto graph, IReadOnlySet<string> wanted, ref int counter)
    {
        var found = new List<(string Value, string Tensor)>();
        foreach (var node in graph.Node.ToList())
        {
            found.AddRange(node.Output.Where(wanted.Contains).Select(o => (o, o)));
            if (node.OpType != "If")
            {
                continue;
            }

            var then = node.Attribute.FirstOrDefault(a => a.Name == "then_branch")?.G;
            var otherwise = node.Attribute.FirstOrDefault(a => a.Name == "else_branch")?.G;
            if (then is null || otherwise is null)
            {
                continue;
            }

            var fromThen = Surface(then, wanted, ref counter);
            var fromElse = Surface(otherwise, wanted, ref counter);
            foreach (var tensor in fromThen.Select(f => f.Tensor).Concat(fromElse.Select(f => f.Tensor)).Distinct(StringComparer.Ordinal).ToList())
            {
                Expose(then, fromThen, tensor, ref counter);
                Expose(otherwise, fromElse, tensor, ref counter);
                var value = $"{tensor}__calibration_{++counter}";
                node.Output.Add(value);
                found.Add((value, tensor));
            }
        }

        return found;
    }

    /// <summary>Adds a branch output carrying <paramref name="tensor"/>, or an empty float tensor where the branch does not make it.</summary>
    private static void Expose(GraphProto branch, List<(string Value, string Tensor)> surfaced, string tensor, ref int counter)
    {
        var output = $"{tensor}__calibration_{++counter}";
        var source = surfaced.FirstOrDefault(s => s.Tensor == tensor).Value;
        if (source is not null)
        {
            branch.Node.Add(new NodeProto { OpType = "Identity", Name = output, Input = { source }, Output = { output } });
        }
        else
        {
            var empty = new TensorProto { Name = output, DataType = (int)TensorProto.Types.DataType.Float, Dims = { 0 } };
            branch.Node.Add(new NodeProto { OpType = "Constant", Name = output, Output = { output }, Attribute = { new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = empty } } });
        }

        branch.Output.Add(new ValueInfoProto { Name = output });
    }
}
