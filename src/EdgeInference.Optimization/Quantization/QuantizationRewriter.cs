using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// Rewrites a model's graphs to 8 bits. Dynamic mode replaces each Gemm and MatMul with a weight by
/// DynamicQuantizeLinear, MatMulInteger, Cast and the scale product, as ONNX Runtime's dynamic quantizer does (ONNX
/// Runtime fuses them into one kernel); static mode is described next.
/// Static quantization in ONNX Runtime's QDQ format: each quantized activation is followed by a QuantizeLinear and
/// DequantizeLinear pair, weights are stored as symmetric int8 behind a DequantizeLinear, and biases as int32 at
/// input scale × weight scale. ONNX Runtime fuses the pairs around each node into its integer kernels (QLinearConv,
/// QGemm, QLinearMatMul …). A node is quantized only where that fusion can happen: a Conv, Gemm or MatMul whose
/// output stays float would dequantize its weights on every run, so its output is quantized too.
/// </summary>
internal sealed class QuantizationRewriter
{
    /// <summary>Operators whose output keeps their input's parameters: they move values, they do not compute new ones.</summary>
    private static readonly HashSet<string> SameAsInput = new(StringComparer.Ordinal) { "MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze" };

    private readonly List<ModelScope> _scopes;
    private readonly QuantizationOptions _options;
    private IReadOnlyDictionary<string, TensorRange> _ranges = new Dictionary<string, TensorRange>();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ModelScope Scope, NodeProto? Producer)> _definitions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (QuantizationParameters Parameters, string? SameAs)> _activations = new(StringComparer.Ordinal);

    // Protobuf messages compare by value, and these change as the rewrite goes: they are keyed by reference.
    private readonly Dictionary<NodeProto, List<NodeProto>> _before = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NodeProto, List<NodeProto>> _after = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<GraphProto, List<NodeProto>> _heads = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(string Scope, string Weight, int Axis), (string Value, float[] Scales)> _weights = [];
    private readonly HashSet<string> _replaced = new(StringComparer.Ordinal);

    public QuantizationRewriter(ModelProto model, QuantizationOptions options)
    {
        _options = options;
        _scopes = ModelScope.All(model);
        foreach (var scope in _scopes)
        {
            foreach (var input in scope.Graph.Input)
            {
                _names.Add(input.Name);
                _definitions.TryAdd(input.Name, (scope, null));
            }

            foreach (var initializer in scope.Graph.Initializer)
            {
                _names.Add(initializer.Name);
            }

            foreach (var node in scope.Graph.Node)
            {
                _names.Add(node.Name);
                foreach (var output in node.Output.Where(o => o.Length > 0))
                {
                    _names.Add(output);
                    _definitions[output] = (scope, node);
                }
            }
        }
    }

    /// <summary>Every node the rewrite considers, with its scope, in graph order (a graph's nodes before those of its subgraphs).</summary>
    public IEnumerable<(ModelScope Scope, NodeProto Node)> Candidates() =>
        _scopes.SelectMany(scope => scope.Graph.Node
            .Where(n => _options.Mode == QuantizationMode.Dynamic ? n.OpType is "Gemm" or "MatMul" : Quantizable(n.OpType))
            .Select(node => (scope, node)));

    public static bool Quantizable(string opType) => opType is "Conv" or "Gemm" or "MatMul" or "Add" or "Mul" or "LeakyRelu" || SameAsInput.Contains(opType);

    /// <summary>The activations the candidates would quantize: what calibration must measure.</summary>
    public HashSet<string> Wanted()
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (scope, node) in Candidates())
        {
            foreach (var input in ActivationInputs(scope, node))
            {
                wanted.Add(input);
            }

            wanted.UnionWith(node.Output.Where(o => o.Length > 0));
        }

        return wanted;
    }

    /// <summary>Rewrites the model with the calibrated <paramref name="ranges"/> of the activations (none in dynamic mode), saying in <paramref name="report"/> what it did.</summary>
    public void Rewrite(QuantizationReport report, IReadOnlyDictionary<string, TensorRange> ranges)
    {
        _ranges = ranges;
        var excluded = new HashSet<string>(_options.Exclude, StringComparer.Ordinal);
        var unknown = excluded.Where(name => !_scopes.Any(s => s.Graph.Node.Any(n => n.Name == name))).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"--exclude names no node of the model: {string.Join(", ", unknown)}");
        }

        foreach (var (scope, node) in Candidates().ToList())
        {
            var opType = node.OpType;
            var reason = excluded.Contains(node.Name) ? "excluded" : _options.Mode == QuantizationMode.Dynamic ? PlanDynamic(scope, node) : Plan(scope, node);
            if (reason is null)
            {
                report.Quantized[opType] = report.Quantized.GetValueOrDefault(opType) + 1;
            }
            else
            {
                report.Skipped.Add(new SkippedNode { Node = node.Name, OpType = opType, Reason = reason });
            }
        }

        foreach (var (name, (parameters, sameAs)) in _activations.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            var range = _ranges.GetValueOrDefault(name);
            report.Tensors.Add(new QuantizedTensorReport
            {
                Name = name, Min = range.Min, Max = range.Max, RangeMin = range.RangeMin, RangeMax = range.RangeMax,
                Scale = parameters.Scale, ZeroPoint = parameters.ZeroPoint, SameAs = sameAs,
            });
            InsertPair(name, parameters);
        }

        foreach (var scope in _scopes)
        {
            var nodes = new List<NodeProto>(_heads.GetValueOrDefault(scope.Graph) ?? []);
            foreach (var node in scope.Graph.Node)
            {
                nodes.AddRange(_before.GetValueOrDefault(node) ?? []);
                nodes.Add(node);
                nodes.AddRange(_after.GetValueOrDefault(node) ?? []);
            }

            scope.Graph.Node.Clear();
            scope.Graph.Node.AddRange(nodes);
        }

        RemoveUnused();
    }

    /// <summary>Decides how <paramref name="node"/> is quantized and records it; or says why it stays float.</summary>
    private string? Plan(ModelScope scope, NodeProto node)
    {
        var activations = ActivationInputs(scope, node).ToList();
        var outputs = node.Output.Where(o => o.Length > 0).ToList();
        if (outputs.Count != 1)
        {
            return "it has more than one output";
        }

        var output = outputs[0];
        switch (node.OpType)
        {
            case "Conv":
            case "Gemm":
            case "MatMul" when activations.Count == 1:
                return PlanWeighted(scope, node, activations, output);
            case "Add":
            case "Mul":
            case "MatMul":
                if (activations.Count != 2 || node.Input.Count != 2)
                {
                    return "an input is a constant";
                }

                break;
            default:
                if (activations.Count == 0 || node.Input.Count == 0 || activations[0] != node.Input[0])
                {
                    return "its first input is not an activation";
                }

                activations = [activations[0]];
                break;
        }

        if (activations.FirstOrDefault(a => !_activations.ContainsKey(a) && !_ranges.ContainsKey(a)) is { } unmeasured)
        {
            return $"calibration measured no float values of '{unmeasured}'";
        }

        if (SameAsInput.Contains(node.OpType))
        {
            var input = Activation(activations[0]);
            if (!IsGraphOutput(output))
            {
                _activations[output] = (input, _activations[activations[0]].SameAs ?? activations[0]);
            }

            return null;
        }

        if (!IsGraphOutput(output) && !_ranges.ContainsKey(output))
        {
            return $"calibration measured no float values of '{output}'";
        }

        foreach (var activation in activations)
        {
            Activation(activation);
        }

        if (!IsGraphOutput(output))
        {
            Activation(output);
        }

        return null;
    }

    private string? PlanWeighted(ModelScope scope, NodeProto node, List<string> activations, string output)
    {
        if (activations.Count != 1 || node.Input[0] != activations[0])
        {
            return "its first input is not an activation";
        }

        if (scope.Initializer(node.Input[1]) is not { } weight || weight.Tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            return "its weight is not a float initializer";
        }

        var dims = weight.Tensor.Dims.ToArray();
        var axis = 0;
        switch (node.OpType)
        {
            case "Conv" when dims.Length < 3:
                return "its weight has fewer than 3 dimensions";
            case "Gemm" when Attribute(node, "transA") != 0:
                return "it transposes its first input";
            case "Gemm" when dims.Length != 2:
            case "MatMul" when dims.Length != 2:
                return "its weight is not a matrix";
            case "Gemm":
                axis = Attribute(node, "transB") != 0 ? 0 : 1;
                break;
            case "MatMul":
                axis = 1;
                break;
        }

        TensorProto? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (scope.Initializer(node.Input[2]) is not { } found || found.Tensor.DataType != (int)TensorProto.Types.DataType.Float)
            {
                return "its bias is not a float initializer";
            }

            if (found.Tensor.Dims.Aggregate(1L, (a, b) => a * b) != dims[axis] || found.Tensor.Dims.Count(d => d != 1) > 1)
            {
                return $"its bias does not hold one value per output channel ({dims[axis]})";
            }

            if (node.OpType == "Gemm" && FloatAttribute(node, "beta") != 1f)
            {
                return "its bias is scaled (beta ≠ 1)";
            }

            bias = found.Tensor;
        }

        if (!_activations.ContainsKey(activations[0]) && !_ranges.ContainsKey(activations[0]))
        {
            return $"calibration measured no float values of '{activations[0]}'";
        }

        // A Conv's output is quantized even when it leaves the graph: ONNX Runtime has no integer Conv with a float
        // output. Gemm and MatMul have one (QGemm, MatMulIntegerToFloat), so theirs is quantized only where a
        // quantized node reads it: a pair that only float nodes read costs time and buys nothing.
        if (node.OpType == "Conv" && !_ranges.ContainsKey(output))
        {
            return $"calibration measured no float values of '{output}'";
        }

        var input = Activation(activations[0]);
        var (weightValue, weightScales) = Weight(scope, node.Input[1], weight.Tensor, _options.PerChannel ? axis : -1);
        node.Input[1] = weightValue;
        if (bias is not null)
        {
            node.Input[2] = Bias(scope, node, bias, input.Scale, weightScales);
        }

        if (node.OpType == "Conv")
        {
            Activation(output);
        }

        return null;
    }

    /// <summary>
    /// A Gemm or MatMul as DynamicQuantizeLinear (the input to uint8 with a range measured on each run), MatMulInteger
    /// against the int8 weight (as [K, N], one scale per column or one), Cast, and a Mul by input scale × weight scale;
    /// the node itself becomes that Mul, or the Add of a Gemm's bias, so its output keeps its name.
    /// </summary>
    private string? PlanDynamic(ModelScope scope, NodeProto node)
    {
        var activations = ActivationInputs(scope, node).ToList();
        if (activations.Count != 1 || node.Input[0] != activations[0] || node.Output.Count != 1)
        {
            return "its first input is not an activation";
        }

        if (scope.Initializer(node.Input[1]) is not { } weight || weight.Tensor.DataType != (int)TensorProto.Types.DataType.Float || weight.Tensor.Dims.Count != 2)
        {
            return "its weight is not a float matrix initializer";
        }

        var transposed = node.OpType == "Gemm" && Attribute(node, "transB") != 0;
        if (node.OpType == "Gemm" && (Attribute(node, "transA") != 0 || FloatAttribute(node, "alpha") != 1f))
        {
            return "it transposes or scales its first input";
        }

        var dims = weight.Tensor.Dims.ToArray();
        long k = transposed ? dims[1] : dims[0], n = transposed ? dims[0] : dims[1];
        string? bias = null;
        if (node.OpType == "Gemm" && node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (FloatAttribute(node, "beta") != 1f)
            {
                return "its bias is scaled (beta ≠ 1)";
            }

            bias = node.Input[2];
        }

        var data = Floats(weight.Tensor);
        if (transposed)
        {
            var columns = new float[data.Length];
            for (var row = 0; row < n; row++)
            {
                for (var column = 0; column < k; column++)
                {
                    columns[(column * n) + row] = data[(row * k) + column];
                }
            }

            data = columns;
        }

        var (values, scales) = WeightQuantizer.Quantize(data, [k, n], _options.PerChannel ? 1 : -1);
        var name = node.Input[1];
        var (quantizedWeight, weightScale, weightZeroPoint) = WeightInitializers(scope.Graph, name, [k, n], values, scales);
        var input = node.Input[0];
        var output = node.Output[0];
        string[] quantized = [Unique($"{input}_quantized"), Unique($"{input}_scale"), Unique($"{input}_zero_point")];
        var product = Unique($"{output}_MatMulInteger");
        var cast = Unique($"{output}_Cast");
        var scale = Unique($"{output}_scale");
        var scaled = bias is null ? output : Unique($"{output}_scaled");
        Append(_before, node,
        [
            new NodeProto { OpType = "DynamicQuantizeLinear", Name = Unique($"{node.Name}_DynamicQuantizeLinear"), Input = { input }, Output = { quantized } },
            new NodeProto { OpType = "MatMulInteger", Name = Unique($"{node.Name}_MatMulInteger"), Input = { quantized[0], quantizedWeight, quantized[2], weightZeroPoint }, Output = { product } },
            new NodeProto { OpType = "Cast", Name = Unique($"{node.Name}_Cast"), Input = { product }, Output = { cast }, Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (int)TensorProto.Types.DataType.Float } } },
            new NodeProto { OpType = "Mul", Name = Unique($"{node.Name}_scale_Mul"), Input = { quantized[1], weightScale }, Output = { scale } },
        ]);

        if (bias is not null)
        {
            Append(_before, node, [new NodeProto { OpType = "Mul", Name = Unique($"{node.Name}_Mul"), Input = { cast, scale }, Output = { scaled } }]);
        }

        // The node itself becomes the last step, so that its output keeps its name and place.
        node.OpType = bias is null ? "Mul" : "Add";
        node.Domain = "";
        node.Attribute.Clear();
        node.Input.Clear();
        node.Input.AddRange(bias is null ? [cast, scale] : [scaled, bias]);
        _replaced.Add(name);
        return null;
    }

    /// <summary>The inputs of <paramref name="node"/> that are computed values: not initializers, nor Constant nodes' outputs (nor empty).</summary>
    private IEnumerable<string> ActivationInputs(ModelScope scope, NodeProto node) =>
        node.Input.Where(i => i.Length > 0 && scope.Initializer(i) is null && _definitions.GetValueOrDefault(i).Producer?.OpType != "Constant")
            .Take(node.OpType is "Add" or "Mul" or "MatMul" ? 2 : 1);

    private bool IsGraphOutput(string name) => _definitions.TryGetValue(name, out var d) && d.Scope.Graph.Output.Any(o => o.Name == name);

    /// <summary>The parameters of activation <paramref name="name"/>, fixed on first use from its calibrated range.</summary>
    private QuantizationParameters Activation(string name)
    {
        if (_activations.TryGetValue(name, out var known))
        {
            return known.Parameters;
        }

        var range = _ranges[name];
        var (qmin, qmax) = QuantizationMath.Range(_options.Activations, symmetric: false);
        var parameters = QuantizationMath.Parameters(range.RangeMin, range.RangeMax, qmin, qmax, symmetric: false);
        _activations[name] = (parameters, null);
        return parameters;
    }

    /// <summary>
    /// Puts a QuantizeLinear/DequantizeLinear pair on <paramref name="name"/>. A value made by a node keeps its name on
    /// the dequantized side, so that every reader (in subgraphs too) and the graph's outputs see the quantized value;
    /// the node's own output is renamed. A graph input gets the pair at the head of its graph, and its readers are renamed.
    /// </summary>
    private void InsertPair(string name, QuantizationParameters parameters)
    {
        var (scope, producer) = _definitions[name];
        var scale = Initializer(scope.Graph, $"{name}_scale", (int)TensorProto.Types.DataType.Float, [], MemoryMarshal.AsBytes([parameters.Scale]));
        var zeroPoint = Initializer(scope.Graph, $"{name}_zero_point", (int)_options.Activations, [], ZeroPointBytes(parameters.ZeroPoint));
        var quantized = Unique($"{name}_QuantizeLinear_Output");
        string input, output;
        if (producer is not null)
        {
            input = Unique($"{name}_QuantizeLinear_Input");
            output = name;
            producer.Output[producer.Output.IndexOf(name)] = input;
        }
        else
        {
            input = name;
            output = Unique($"{name}_DequantizeLinear_Output");
            foreach (var reader in _scopes.Where(scope.Contains).SelectMany(s => s.Graph.Node))
            {
                for (var i = 0; i < reader.Input.Count; i++)
                {
                    reader.Input[i] = reader.Input[i] == name ? output : reader.Input[i];
                }
            }
        }

        var pair = new[]
        {
            new NodeProto { OpType = "QuantizeLinear", Name = Unique($"{name}_QuantizeLinear"), Input = { input, scale, zeroPoint }, Output = { quantized } },
            new NodeProto { OpType = "DequantizeLinear", Name = Unique($"{name}_DequantizeLinear"), Input = { quantized, scale, zeroPoint }, Output = { output } },
        };
        if (producer is not null)
        {
            Append(_after, producer, pair);
        }
        else
        {
            Append(_heads, scope.Graph, pair);
        }
    }

    private byte[] ZeroPointBytes(int zeroPoint) => [_options.Activations == QuantizedType.U8 ? (byte)zeroPoint : (byte)(sbyte)zeroPoint];

    /// <summary>
    /// Weight <paramref name="name"/> as symmetric int8 in the graph of its reader, per channel along <paramref name="axis"/>
    /// (−1: one scale), behind a DequantizeLinear placed before <paramref name="reader"/>'s first use in that graph.
    /// </summary>
    private (string Value, float[] Scales) Weight(ModelScope scope, string name, TensorProto tensor, int axis)
    {
        var key = (scope.Path, name, axis);
        if (_weights.TryGetValue(key, out var done))
        {
            return done;
        }

        var dims = tensor.Dims.ToArray();
        var (quantized, scales) = WeightQuantizer.Quantize(Floats(tensor), dims, axis);
        var (values, scale, zeroPoint) = WeightInitializers(scope.Graph, name, dims, quantized, scales);
        var output = Unique($"{name}_DequantizeLinear_Output");
        Append(_heads, scope.Graph, [Dequantize(name, values, scale, zeroPoint, output, scales.Length > 1 ? axis : null)]);
        _replaced.Add(name);
        return _weights[key] = (output, scales);
    }

    /// <summary>A bias as int32 at input scale × weight scale, zero point 0, one scale per channel (or one), behind a DequantizeLinear.</summary>
    private string Bias(ModelScope scope, NodeProto node, TensorProto tensor, float inputScale, float[] weightScales)
    {
        var data = Floats(tensor);
        var scales = weightScales.Select(w => inputScale * w).ToArray();
        var quantized = data.Select((v, i) => QuantizationMath.QuantizeBias(v, scales[scales.Length == 1 ? 0 : i])).ToArray();
        var perChannel = scales.Length > 1;
        var scaleDims = perChannel ? [scales.Length] : Array.Empty<long>();
        var graph = scope.Graph;
        var values = Initializer(graph, $"{tensor.Name}_quantized", (int)TensorProto.Types.DataType.Int32, [data.Length], MemoryMarshal.AsBytes(quantized.AsSpan()));
        var scale = Initializer(graph, $"{tensor.Name}_quantized_scale", (int)TensorProto.Types.DataType.Float, scaleDims, MemoryMarshal.AsBytes(scales.AsSpan()));
        var zeroPoint = Initializer(graph, $"{tensor.Name}_quantized_zero_point", (int)TensorProto.Types.DataType.Int32, scaleDims, new byte[scales.Length * 4]);
        var output = Unique($"{tensor.Name}_DequantizeLinear_Output");
        var dequantize = Dequantize(tensor.Name, values, scale, zeroPoint, output, perChannel ? 0 : null);
        Append(_before, node, [dequantize]);
        _replaced.Add(tensor.Name);
        return output;
    }

    private static void Append<TKey>(Dictionary<TKey, List<NodeProto>> map, TKey key, IEnumerable<NodeProto> nodes)
        where TKey : notnull =>
        (map.TryGetValue(key, out var list) ? list : map[key] = []).AddRange(nodes);

    /// <summary>A weight's int8 values, its scales (one, or one per channel) and its zero points (0), as initializers of <paramref name="graph"/>.</summary>
    private (string Values, string Scale, string ZeroPoint) WeightInitializers(GraphProto graph, string name, long[] dims, byte[] values, float[] scales)
    {
        var scaleDims = scales.Length > 1 ? [scales.Length] : Array.Empty<long>();
        return (
            Initializer(graph, $"{name}_quantized", (int)TensorProto.Types.DataType.Int8, dims, values),
            Initializer(graph, $"{name}_scale", (int)TensorProto.Types.DataType.Float, scaleDims, MemoryMarshal.AsBytes(scales.AsSpan())),
            Initializer(graph, $"{name}_zero_point", (int)TensorProto.Types.DataType.Int8, scaleDims, new byte[scales.Length]));
    }

    private NodeProto Dequantize(string hint, string values, string scale, string zeroPoint, string output, int? axis)
    {
        var node = new NodeProto { OpType = "DequantizeLinear", Name = Unique($"{hint}_DequantizeLinear"), Input = { values, scale, zeroPoint }, Output = { output } };
        if (axis is { } channels)
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = channels });
        }

        return node;
    }

    private string Initializer(GraphProto graph, string name, int elementType, long[] dims, ReadOnlySpan<byte> data)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = elementType, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private string Unique(string wanted)
    {
        var name = wanted;
        for (var i = 1; !_names.Add(name); i++)
        {
            name = $"{wanted}_{i}";
        }

        return name;
    }

    /// <summary>Drops the float weights and biases no node reads any more.</summary>
    private void RemoveUnused()
    {
        var read = _scopes.SelectMany(s => s.Graph.Node.SelectMany(n => n.Input).Concat(s.Graph.Output.Select(o => o.Name))).ToHashSet(StringComparer.Ordinal);
        foreach (var scope in _scopes)
        {
            foreach (var unused in scope.Graph.Initializer.Where(i => _replaced.Contains(i.Name) && !read.Contains(i.Name)).ToList())
            {
                scope.Graph.Initializer.Remove(unused);
                var input = scope.Graph.Input.FirstOrDefault(i => i.Name == unused.Name);
                if (input is not null)
                {
                    scope.Graph.Input.Remove(input);
                }
            }
        }
    }

    internal static float[] Floats(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new InvalidDataException($"initializer '{tensor.Name}' is stored outside the model file; quantization reads single-file models");
        }

        var count = (int)tensor.Dims.Aggregate(1L, (a, b) => a * b);
        var data = tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
        return data.Length == count ? data : throw new InvalidDataException($"initializer '{tensor.Name}' holds {data.Length} floats for its shape's {count}");
    }

    private static long Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? 0;

    private static float FloatAttribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.F ?? 1f;
}
