using System.Buffers.Binary;
using EdgeInference.Optimization.Tflite;
using Onnx;

namespace EdgeInference.Optimization.Import;

/// <summary>
/// TFLite → ONNX (opset 13, or 21 when the model holds int16 tensors: QuantizeLinear and DequantizeLinear take int16
/// from opset 21), operator by operator. Every operator, option and type it does not
/// handle is refused with its name and where it is (an <see cref="InvalidDataException"/>), never converted wrongly.
/// Graph inputs and outputs keep their TFLite names and shapes (dynamic dimensions symbolic); constant tensors become
/// initializers; fused activations become their own nodes.
/// </summary>
public static class TfliteImporter
{
    public const long Opset = 13;

    /// <summary>The opset of models with int16 tensors (16-bit activations with 8-bit weights).</summary>
    public const long Int16Opset = 21;

    /// <summary>The TFLite operators the importer converts.</summary>
    public static IReadOnlySet<string> Supported { get; } = new HashSet<string>(
        [
            "ADD", "SUB", "MUL", "FULLY_CONNECTED", "RESHAPE", "LOGISTIC", "SOFTMAX", "MEAN", "RSQRT", "CONV_2D", "MAX_POOL_2D", "PAD", "LEAKY_RELU",
            "MAXIMUM", "MINIMUM", "LOG", "EXPAND_DIMS", "SQUEEZE", "TRANSPOSE", "REDUCE_MAX", "BATCH_MATMUL", "GREATER_EQUAL", "IF", "QUANTIZE", "DEQUANTIZE", "DEPTHWISE_CONV_2D",
            "STRIDED_SLICE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF",
        ], StringComparer.Ordinal);

    /// <summary>NHWC (TFLite's layout) to NCHW (ONNX's), and back.</summary>
    private static readonly long[] ToNchw = [0, 3, 1, 2];
    private static readonly long[] ToNhwc = [0, 2, 3, 1];

    /// <summary>Converts <paramref name="model"/>'s main subgraph (and the subgraphs its IFs call); the report counts what was converted.</summary>
    public static (ModelProto Model, ImportReport Report) Import(TfliteModel model, string graphName)
    {
        ArgumentNullException.ThrowIfNull(model);
        var opset = model.Subgraphs.Any(s => s.Tensors.Any(t => t.Type == TfliteTensorType.Int16)) ? Int16Opset : Opset;
        var report = new ImportReport { Opset = opset };
        var context = new Context(model, model.Subgraphs[0], new OnnxGraphBuilder(graphName), report, [], 0, opset);
        var graph = context.Builder.Graph;
        foreach (var input in context.Subgraph.Inputs)
        {
            var tensor = context.Subgraph.Tensors[input];
            if (Quantized(tensor) || tensor is { Type: TfliteTensorType.Int32, Quantization: not null })
            {
                // A quantized input stays integer at the graph's edge; inside, the graph works on its dequantized value.
                var raw = context.Builder.Name(tensor.Name);
                graph.Input.Add(OnnxGraphBuilder.Value(raw, IntegerType(tensor, "input"), Shape(tensor)));
                context.Bind(input, context.Dequantize(raw, tensor, "the graph's input"));
                context.Integers[input] = raw;
            }
            else
            {
                graph.Input.Add(OnnxGraphBuilder.Value(context.Name(input), ElementType(tensor, "input"), Shape(tensor)));
            }
        }

        ConvertAll(context);
        foreach (var output in context.Subgraph.Outputs)
        {
            var tensor = context.Subgraph.Tensors[output];
            if (context.Integers.TryGetValue(output, out var integer))
            {
                // An integer result made exactly (a QUANTIZE to int32): written as it is.
                var raw = context.Builder.Name(tensor.Name);
                context.Builder.Node("Identity", "the graph's output", [integer], [raw]);
                graph.Output.Add(OnnxGraphBuilder.Value(raw, IntegerType(tensor, "output"), Shape(tensor)));
            }
            else if (Quantized(tensor))
            {
                var raw = context.Builder.Name(tensor.Name);
                context.Builder.Node("QuantizeLinear", "the graph's output", [context.Name(output), .. context.Parameters(tensor, "the graph's output")], [raw]);
                graph.Output.Add(OnnxGraphBuilder.Value(raw, IntegerType(tensor, "output"), Shape(tensor)));
            }
            else
            {
                graph.Output.Add(OnnxGraphBuilder.Value(context.Name(output), ElementType(tensor, "output"), Shape(tensor)));
            }
        }

        // The variables an SVDF updates come after the model's own outputs (see Svdf).
        graph.Output.Add(context.StateOutputs);

        void Count(GraphProto g)
        {
            report.Initializers += g.Initializer.Count;
            foreach (var node in g.Node)
            {
                report.Nodes[node.OpType] = report.Nodes.GetValueOrDefault(node.OpType) + 1;
                foreach (var attribute in node.Attribute.Where(a => a.G is not null))
                {
                    Count(attribute.G);
                }
            }
        }

        Count(graph);
        var onnx = new ModelProto { IrVersion = opset >= Int16Opset ? 10 : 8, ProducerName = "edgefleet models import", ProducerVersion = "1", Graph = graph };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return (onnx, report);
    }

    private static void ConvertAll(Context context)
    {
        for (var index = 0; index < context.Subgraph.Operators.Count; index++)
        {
            var op = context.Subgraph.Operators[index];
            var place = context.Depth == 0 ? $"operator {index}" : $"operator {index} of subgraph '{context.Subgraph.Name}'";
            if (!Supported.Contains(op.Name))
            {
                throw new InvalidDataException($"{place} ({op.Name}, output '{context.TensorName(op.Outputs.FirstOrDefault(-1))}') is not one the importer converts (it converts {string.Join(", ", Supported.Order(StringComparer.Ordinal))})");
            }

            // A quantized output: the operator computes in float into a value of its own, then the value is put on the
            // output's integer grid (QuantizeLinear, then DequantizeLinear with its scale and zero point), as TFLite
            // requantizes it; ONNX Runtime fuses such QDQ groups into integer kernels where it has them.
            var requantized = op.Outputs.Where(o => o >= 0 && Quantized(context.Subgraph.Tensors[o])).ToArray();
            if (op.Name == "QUANTIZE" && op.Outputs.Length == 1 && context.Subgraph.Tensors[op.Outputs[0]] is { Type: TfliteTensorType.Int32, Quantization: not null })
            {
                QuantizeToInt32(context, op, $"{place} ({op.Name})");
                context.Report.Converted[op.Name] = context.Report.Converted.GetValueOrDefault(op.Name) + 1;
                continue;
            }

            foreach (var output in requantized)
            {
                context.Bind(output, context.Builder.Temporary("float"));
            }

            try
            {
                Convert(context, op, $"{place} ({op.Name})");
            }
            catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // A tensor index past the operator's inputs, or past the subgraph's tensors: a malformed model.
                throw new InvalidDataException($"{place} ({op.Name}): its inputs or outputs are not as the operator needs them ({ex.Message})", ex);
            }
            foreach (var output in requantized)
            {
                var tensor = context.Subgraph.Tensors[output];
                var quantized = context.Builder.Temporary("q");
                context.Builder.Node("QuantizeLinear", $"{place} ({op.Name})", [context.Name(output), .. context.Parameters(tensor, $"{place} ({op.Name})")], [quantized]);
                context.Bind(output, context.Dequantize(quantized, tensor, $"{place} ({op.Name})"));
                context.Integers[output] = quantized;
            }

            context.Report.Converted[op.Name] = context.Report.Converted.GetValueOrDefault(op.Name) + 1;
        }
    }

    /// <summary>
    /// IF: ONNX's <c>If</c>, whose branches are the called subgraphs converted in place. A branch takes no inputs in
    /// ONNX: the subgraph's input tensors are named as the values the IF passes them, so the branch reads those from
    /// the enclosing graph. Each branch produces the IF's outputs under names of its own.
    /// </summary>
    private static void If(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        if (c.Depth > 8)
        {
            throw new InvalidDataException($"{where}: IFs nested more than 8 deep");
        }

        var branches = new[] { ("then_branch", options.Int(0)), ("else_branch", options.Int(1)) }.Select(branch =>
        {
            var (attribute, index) = branch;
            if (index <= 0 || index >= c.Model.Subgraphs.Count)
            {
                throw new InvalidDataException($"{where}: its {attribute} is subgraph {index}, but the model has {c.Model.Subgraphs.Count} (0 is the main graph)");
            }

            var subgraph = c.Model.Subgraphs[index];
            if (subgraph.Inputs.Length != op.Inputs.Length - 1 || subgraph.Outputs.Length != op.Outputs.Length)
            {
                throw new InvalidDataException($"{where}: subgraph {index} takes {subgraph.Inputs.Length} inputs and gives {subgraph.Outputs.Length} outputs, but the IF passes {op.Inputs.Length - 1} and takes {op.Outputs.Length}");
            }

            var outer = new Dictionary<int, string>();
            for (var i = 0; i < subgraph.Inputs.Length; i++)
            {
                outer[subgraph.Inputs[i]] = c.Input(op, i + 1, where);
            }

            var inner = new Context(c.Model, subgraph, c.Builder.Branch(subgraph.Name.Length > 0 ? subgraph.Name : $"subgraph_{index}"), c.Report, outer, c.Depth + 1, c.Opset);
            ConvertAll(inner);
            foreach (var output in subgraph.Outputs)
            {
                var name = inner.IsConstant(output) ? inner.Value(output, where) : inner.Name(output);
                if (inner.IsConstant(output) || outer.ContainsKey(output))
                {
                    // A branch output must be made by a node of the branch: a constant or an input passed straight through is copied.
                    var copy = inner.Builder.Temporary("branch_out");
                    inner.Builder.Node("Identity", where, [name], [copy]);
                    name = copy;
                }

                inner.Builder.Graph.Output.Add(OnnxGraphBuilder.Value(name, ElementType(subgraph.Tensors[output], "branch output"), Shape(subgraph.Tensors[output])));
            }

            return OnnxGraphBuilder.Subgraph(attribute, inner.Builder.Graph);
        }).ToArray();
        c.Builder.Node("If", where, [c.Input(op, 0, where)], [.. op.Outputs.Select(c.Name)], branches);
    }

    private static void Convert(Context c, TfliteOperator op, string where)
    {
        var options = c.Model.Options(op);
        switch (op.Name)
        {
            case "ADD" or "SUB" or "MUL":
                Activated(c, op.Name switch { "ADD" => "Add", "SUB" => "Sub", _ => "Mul" }, [c.Input(op, 0, where), c.Input(op, 1, where)], op.Outputs[0], options.Byte(0), where);
                break;
            case "LOGISTIC":
                c.Builder.Node("Sigmoid", where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])]);
                break;
            case "RSQRT":
            {
                var root = c.Builder.Temporary("sqrt");
                c.Builder.Node("Sqrt", where, [c.Input(op, 0, where)], [root]);
                c.Builder.Node("Reciprocal", where, [root], [c.Name(op.Outputs[0])]);
                break;
            }

            case "SOFTMAX":
            {
                var beta = options.Float(0);
                var input = c.Input(op, 0, where);
                if (beta != 1f)
                {
                    var scaled = c.Builder.Temporary("scaled");
                    c.Builder.Node("Mul", where, [input, c.Builder.Float("beta", [], BitConverter.GetBytes(beta))], [scaled]);
                    input = scaled;
                }

                c.Builder.Node("Softmax", where, [input], [c.Name(op.Outputs[0])], OnnxGraphBuilder.Int("axis", -1));
                break;
            }

            case "RESHAPE":
            {
                string shape;
                if (op.Inputs.Length > 1 && op.Inputs[1] >= 0 && !c.IsConstant(op.Inputs[1]))
                {
                    // A shape computed at run time (int32 in TFLite, int64 in ONNX).
                    shape = c.Builder.Temporary("shape");
                    c.Builder.Node("Cast", where, [c.Input(op, 1, where)], [shape], OnnxGraphBuilder.Int("to", 7));
                }
                else
                {
                    var values = op.Inputs.Length > 1 && op.Inputs[1] >= 0 ? c.ConstantInts(op.Inputs[1], where) : options.Ints(0);
                    shape = c.Builder.Int64s("shape", [.. values.Select(d => (long)d)]);
                }

                c.Builder.Node("Reshape", where, [c.Input(op, 0, where), shape], [c.Name(op.Outputs[0])]);
                break;
            }

            case "MEAN" or "REDUCE_MAX":
                Reduce(c, op.Name == "MEAN" ? "ReduceMean" : "ReduceMax", op, options.Bool(0), where);
                break;
            case "STRIDED_SLICE":
                StridedSlice(c, op, options, where);
                break;
            case "TRANSPOSE_CONV":
                TransposeConv(c, op, options, where);
                break;
            case "UNIDIRECTIONAL_SEQUENCE_LSTM":
                Lstm(c, op, options, where);
                break;
            case "SVDF":
                Svdf(c, op, options, where);
                break;

            case "FULLY_CONNECTED":
                FullyConnected(c, op, options, where);
                break;
            case "CONV_2D":
                Conv(c, op, options, where);
                break;
            case "DEPTHWISE_CONV_2D":
                DepthwiseConv(c, op, options, where);
                break;
            case "MAX_POOL_2D":
            {
                // Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, fused activation.
                var nchw = Transposed(c, c.Input(op, 0, where), ToNchw, where);
                var pooled = c.Builder.Temporary("pooled");
                c.Builder.Node("MaxPool", where, [nchw], [pooled], AutoPad(options.Byte(0)),
                    OnnxGraphBuilder.Ints("kernel_shape", options.Int(4), options.Int(3)), OnnxGraphBuilder.Ints("strides", options.Int(2), options.Int(1)));
                Finish(c, pooled, op.Outputs[0], options.Byte(5), where);
                break;
            }

            case "PAD":
            {
                // paddings: [rank, 2] of (before, after); ONNX wants every before, then every after.
                var paddings = c.ConstantInts(op.Inputs[1], where);
                var rank = paddings.Length / 2;
                var pads = Enumerable.Range(0, rank).Select(i => (long)paddings[2 * i]).Concat(Enumerable.Range(0, rank).Select(i => (long)paddings[(2 * i) + 1])).ToArray();
                c.Builder.Node("Pad", where, [c.Input(op, 0, where), c.Builder.Int64s("pads", pads)], [c.Name(op.Outputs[0])], OnnxGraphBuilder.String("mode", "constant"));
                break;
            }

            case "LEAKY_RELU":
                c.Builder.Node("LeakyRelu", where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])], OnnxGraphBuilder.Float("alpha", options.Float(0)));
                break;
            case "MAXIMUM" or "MINIMUM":
                c.Builder.Node(op.Name == "MAXIMUM" ? "Max" : "Min", where, [c.Input(op, 0, where), c.Input(op, 1, where)], [c.Name(op.Outputs[0])]);
                break;
            case "IF":
                If(c, op, options, where);
                break;
            case "QUANTIZE" or "DEQUANTIZE":
                // The graph carries every tensor as its real value: quantizing is the requantization the loop above
                // adds to the output; dequantizing is nothing more.
                c.Builder.Node("Identity", where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])]);
                break;
            case "GREATER_EQUAL":
                c.Builder.Node("GreaterOrEqual", where, [c.Input(op, 0, where), c.Input(op, 1, where)], [c.Name(op.Outputs[0])]);
                break;
            case "LOG":
                c.Builder.Node("Log", where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])]);
                break;
            case "EXPAND_DIMS":
                c.Builder.Node("Unsqueeze", where, [c.Input(op, 0, where), c.Builder.Int64s("axes", [.. c.ConstantInts(op.Inputs[1], where).Select(a => (long)a)])], [c.Name(op.Outputs[0])]);
                break;
            case "SQUEEZE":
            {
                var axes = options.Ints(0);
                string[] inputs = axes.Length == 0 ? [c.Input(op, 0, where)] : [c.Input(op, 0, where), c.Builder.Int64s("axes", [.. axes.Select(a => (long)a)])];
                c.Builder.Node("Squeeze", where, inputs, [c.Name(op.Outputs[0])]);
                break;
            }

            case "TRANSPOSE":
                c.Builder.Node("Transpose", where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])], OnnxGraphBuilder.Ints("perm", [.. c.ConstantInts(op.Inputs[1], where).Select(p => (long)p)]));
                break;
            case "BATCH_MATMUL":
            {
                // BatchMatMulOptions: adj_x, adj_y: the last two dimensions of that side transposed first.
                var x = c.Input(op, 0, where);
                var y = c.Input(op, 1, where);
                if (options.Bool(0))
                {
                    x = Transposed(c, x, LastTwoSwapped(c.Subgraph.Tensors[op.Inputs[0]].Shape.Length), where);
                }

                if (options.Bool(1))
                {
                    y = Transposed(c, y, LastTwoSwapped(c.Subgraph.Tensors[op.Inputs[1]].Shape.Length), where);
                }

                c.Builder.Node("MatMul", where, [x, y], [c.Name(op.Outputs[0])]);
                break;
            }
        }
    }

    /// <summary>
    /// CONV_2D: TFLite's NHWC input and OHWI filter; ONNX's Conv wants NCHW and OIHW. The filter is rearranged once, at
    /// import; the input and output go through transposes, which ONNX Runtime's optimizer folds between neighbouring
    /// convolutions.
    /// </summary>
    private static void Conv(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        // Conv2DOptions: padding, stride_w, stride_h, fused activation, dilation_w, dilation_h.
        var filter = c.Subgraph.Tensors[op.Inputs[1]];
        if (filter.Shape.Length != 4)
        {
            throw new InvalidDataException($"{where}: filter '{filter.Name}' is not 4-D (OHWI)");
        }

        var weights = c.Filter(op.Inputs[1], [0, 3, 1, 2], where);
        var nchw = Transposed(c, c.Input(op, 0, where), ToNchw, where);
        string[] inputs = op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? [nchw, weights, c.Input(op, 2, where)] : [nchw, weights];
        var convolved = c.Builder.Temporary("conv");
        c.Builder.Node("Conv", where, inputs, [convolved], AutoPad(options.Byte(0)),
            OnnxGraphBuilder.Ints("kernel_shape", filter.Shape[1], filter.Shape[2]), OnnxGraphBuilder.Ints("strides", options.Int(2, 1), options.Int(1, 1)),
            OnnxGraphBuilder.Ints("dilations", options.Int(5, 1), options.Int(4, 1)));
        Finish(c, convolved, op.Outputs[0], options.Byte(3), where);
    }

    /// <summary>
    /// DEPTHWISE_CONV_2D: a grouped convolution, one group per input channel; TFLite's filter [1, H, W, channels ×
    /// multiplier] becomes ONNX's [channels × multiplier, 1, H, W].
    /// </summary>
    private static void DepthwiseConv(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        // DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier, fused activation, dilation_w, dilation_h.
        var filter = c.Subgraph.Tensors[op.Inputs[1]];
        var input = c.Subgraph.Tensors[op.Inputs[0]];
        if (filter.Shape.Length != 4 || filter.Shape[0] != 1 || input.Shape.Length != 4 || input.Shape[3] <= 0)
        {
            throw new InvalidDataException($"{where}: filter '{filter.Name}' is not [1, H, W, C] over a 4-D input with known channels");
        }

        var weights = c.Filter(op.Inputs[1], [3, 0, 1, 2], where);
        var nchw = Transposed(c, c.Input(op, 0, where), ToNchw, where);
        string[] inputs = op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? [nchw, weights, c.Input(op, 2, where)] : [nchw, weights];
        var convolved = c.Builder.Temporary("depthwise");
        c.Builder.Node("Conv", where, inputs, [convolved], AutoPad(options.Byte(0)), OnnxGraphBuilder.Int("group", input.Shape[3]),
            OnnxGraphBuilder.Ints("kernel_shape", filter.Shape[1], filter.Shape[2]), OnnxGraphBuilder.Ints("strides", options.Int(2, 1), options.Int(1, 1)),
            OnnxGraphBuilder.Ints("dilations", options.Int(6, 1), options.Int(5, 1)));
        Finish(c, convolved, op.Outputs[0], options.Byte(4), where);
    }

    /// <summary>MEAN and REDUCE_MAX: the axes an attribute up to opset 17, an input from opset 18.</summary>
    private static void Reduce(Context c, string opType, TfliteOperator op, bool keepDims, string where)
    {
        var axes = c.ConstantInts(op.Inputs[1], where).Select(a => (long)a).ToArray();
        var keep = OnnxGraphBuilder.Int("keepdims", keepDims ? 1 : 0);
        if (c.Opset >= 18)
        {
            c.Builder.Node(opType, where, [c.Input(op, 0, where), c.Builder.Int64s("axes", axes)], [c.Name(op.Outputs[0])], keep);
        }
        else
        {
            c.Builder.Node(opType, where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])], OnnxGraphBuilder.Ints("axes", axes), keep);
        }
    }

    /// <summary>
    /// STRIDED_SLICE: ONNX's Slice over every dimension, a begin or end masked meaning the whole extent that way, then
    /// Squeeze of the shrunk dimensions. The ellipsis and new-axis masks and <c>offset</c> are refused.
    /// </summary>
    private static void StridedSlice(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        // StridedSliceOptions: begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset.
        var (beginMask, endMask, shrinkMask) = (options.Int(0), options.Int(1), options.Int(4));
        if (options.Int(2) != 0 || options.Int(3) != 0 || options.Bool(5))
        {
            throw new InvalidDataException($"{where}: the ellipsis mask, the new-axis mask and offset are not supported (they are {options.Int(2)}, {options.Int(3)} and {options.Bool(5)})");
        }

        var begin = c.ConstantInts(op.Inputs[1], where);
        var end = c.ConstantInts(op.Inputs[2], where);
        var strides = c.ConstantInts(op.Inputs[3], where);
        if (begin.Length != end.Length || begin.Length != strides.Length || strides.Contains(0))
        {
            throw new InvalidDataException($"{where}: begin, end and strides must be as long as each other ({begin.Length}, {end.Length}, {strides.Length}) with no zero stride");
        }

        var starts = new long[begin.Length];
        var ends = new long[begin.Length];
        var steps = new long[begin.Length];
        var shrunk = new List<long>();
        for (var i = 0; i < begin.Length; i++)
        {
            var forward = strides[i] > 0;
            starts[i] = (beginMask & (1 << i)) != 0 ? (forward ? 0 : long.MaxValue) : begin[i];
            ends[i] = (endMask & (1 << i)) != 0 ? (forward ? long.MaxValue : long.MinValue) : end[i];
            steps[i] = strides[i];
            if ((shrinkMask & (1 << i)) != 0)
            {
                // One element at begin (TFLite ignores end and the stride there).
                starts[i] = begin[i];
                ends[i] = begin[i] == -1 ? long.MaxValue : begin[i] + 1;
                steps[i] = 1;
                shrunk.Add(i);
            }
        }

        var axes = c.Builder.Int64s("axes", [.. Enumerable.Range(0, begin.Length).Select(i => (long)i)]);
        string[] inputs = [c.Input(op, 0, where), c.Builder.Int64s("starts", starts), c.Builder.Int64s("ends", ends), axes, c.Builder.Int64s("steps", steps)];
        if (shrunk.Count == 0)
        {
            c.Builder.Node("Slice", where, inputs, [c.Name(op.Outputs[0])]);
            return;
        }

        var sliced = c.Builder.Temporary("sliced");
        c.Builder.Node("Slice", where, inputs, [sliced]);
        c.Builder.Node("Squeeze", where, [sliced, c.Builder.Int64s("shrunk", [.. shrunk])], [c.Name(op.Outputs[0])]);
    }

    /// <summary>
    /// TRANSPOSE_CONV: ONNX's ConvTranspose on NCHW, the OHWI filter rearranged to [in, out, H, W]. The output's size
    /// is its tensor's static shape (the output_shape input, a constant or not, must agree with it); TFLite's padding
    /// puts the output at <c>input × stride − before</c>, so the full result is cropped by explicit pads (before as
    /// TFLite computes it, the rest after) or, where it is too short, extended by output_padding.
    /// </summary>
    private static void TransposeConv(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        // TransposeConvOptions: padding, stride_w, stride_h, fused activation.
        var filter = c.Subgraph.Tensors[op.Inputs[1]];
        var input = c.Subgraph.Tensors[op.Inputs[2]];
        var output = c.Subgraph.Tensors[op.Outputs[0]];
        if (filter.Shape.Length != 4 || input.Shape.Length != 4 || output.Shape.Length != 4 || output.Shape.Skip(1).Any(d => d <= 0) || input.Shape.Skip(1).Any(d => d <= 0))
        {
            throw new InvalidDataException($"{where}: needs a 4-D filter (OHWI) and 4-D input and output of known sizes");
        }

        if (c.IsConstant(op.Inputs[0]) && !c.ConstantInts(op.Inputs[0], where).SequenceEqual(output.Shape.Select(d => d)))
        {
            throw new InvalidDataException($"{where}: output_shape [{string.Join(",", c.ConstantInts(op.Inputs[0], where))}] is not the output tensor's [{string.Join(",", output.Shape)}]");
        }

        var padding = options.Byte(0);
        if (padding > 1)
        {
            throw new InvalidDataException($"{where}: padding {padding} is neither SAME nor VALID");
        }

        var strides = new long[] { options.Int(2, 1), options.Int(1, 1) };
        var kernel = new long[] { filter.Shape[1], filter.Shape[2] };
        var sizesIn = new long[] { input.Shape[1], input.Shape[2] };
        var sizesOut = new long[] { output.Shape[1], output.Shape[2] };
        var before = new long[2];
        var after = new long[2];
        var extra = new long[2];
        for (var i = 0; i < 2; i++)
        {
            if (padding == 0)
            {
                var forward = (sizesOut[i] + strides[i] - 1) / strides[i];
                before[i] = Math.Max(((forward - 1) * strides[i]) + kernel[i] - sizesOut[i], 0) / 2;
            }

            var full = ((sizesIn[i] - 1) * strides[i]) + kernel[i];
            after[i] = full - sizesOut[i] - before[i];
            if (after[i] < 0)
            {
                extra[i] = -after[i];
                after[i] = 0;
            }
        }

        var weights = c.Filter(op.Inputs[1], [3, 0, 1, 2], where);
        var nchw = Transposed(c, c.Input(op, 2, where), ToNchw, where);
        string[] inputs = op.Inputs.Length > 3 && op.Inputs[3] >= 0 ? [nchw, weights, c.Input(op, 3, where)] : [nchw, weights];
        var convolved = c.Builder.Temporary("transpose_conv");
        c.Builder.Node("ConvTranspose", where, inputs, [convolved], OnnxGraphBuilder.Ints("kernel_shape", kernel), OnnxGraphBuilder.Ints("strides", strides),
            OnnxGraphBuilder.Ints("pads", before[0], before[1], after[0], after[1]), OnnxGraphBuilder.Ints("output_padding", extra));
        Finish(c, convolved, op.Outputs[0], options.Byte(3), where);
    }

    /// <summary>
    /// UNIDIRECTIONAL_SEQUENCE_LSTM → ONNX's <c>Scan</c> over the time axis with one LSTM step as its body: the four
    /// gates' weights (of dequantized values in an int8 model) stacked once, two <c>Gemm</c>s, the gate activations, the
    /// cell update clipped to <c>cell_clip</c> as TFLite clips it (ONNX's own LSTM clips pre-activations instead, so
    /// it cannot stand in). The states are TFLite variables, which TFLite carries from one invocation to the next until
    /// reset; the ONNX graph has no state between runs and starts every sequence from zeros, as a freshly reset TFLite
    /// model does. CIFG, peepholes, projection, layer norm and diagonal recurrent weights are refused.
    /// </summary>
    private static void Lstm(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        // UnidirectionalSequenceLSTMOptions: fused activation, cell_clip, proj_clip, time_major, asymmetric_quantize_inputs, diagonal_recurrent_tensors.
        bool Has(int i) => op.Inputs.Length > i && op.Inputs[i] >= 0;
        var missing = new[] { 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15 }.Where(i => !Has(i)).ToArray();
        var extra = new[] { 9, 10, 11, 16, 17, 20, 21, 22, 23 }.Where(Has).ToArray();
        var cellClip = options.Float(1);
        if (missing.Length > 0 || extra.Length > 0 || options.Bool(5) || cellClip < 0)
        {
            throw new InvalidDataException(
                $"{where}: only the plain LSTM converts (all four gates' weights and biases; no CIFG, peepholes, projection, layer norm or diagonal recurrent weights): inputs missing [{string.Join(",", missing)}], present [{string.Join(",", extra)}]");
        }

        var activation = options.Byte(0) switch
        {
            1 => "Relu",
            4 => "Tanh",
            var other => throw new InvalidDataException($"{where}: fused activation {other} is not supported in an LSTM (RELU or TANH)"),
        };
        var input = c.Subgraph.Tensors[op.Inputs[0]];
        var weights = c.Subgraph.Tensors[op.Inputs[2]];
        if (input.Shape.Length != 3 || weights.Shape.Length != 2)
        {
            throw new InvalidDataException($"{where}: the input must be 3-D and the weights [cells, inputs]");
        }

        var (hidden, features) = ((long)weights.Shape[0], (long)weights.Shape[1]);
        string Stack(string hint, int first)
        {
            // TFLite's inputs 1–4: the input, forget, cell and output gates' weights; 5–8 the recurrent ones; 12–15 the biases.
            var stacked = c.Builder.Temporary(hint);
            c.Builder.Node("Concat", where, [.. Enumerable.Range(first, 4).Select(g => c.Input(op, g, where))], [stacked], OnnxGraphBuilder.Int("axis", 0));
            return stacked;
        }

        var (w, r, b) = (Stack("lstm_w", 1), Stack("lstm_r", 5), Stack("lstm_b", 12));
        var axis = options.Bool(3) ? 0L : 1L;
        var x = c.Input(op, 0, where);

        // Zero states [batch, cells], the batch read from the input at run time.
        var (shape, batch, dims, zeros) = (c.Builder.Temporary("shape"), c.Builder.Temporary("batch"), c.Builder.Temporary("state_shape"), c.Builder.Temporary("zero_state"));
        c.Builder.Node("Shape", where, [x], [shape]);
        c.Builder.Node("Gather", where, [shape, c.Builder.Int64s("batch_axis", 1 - axis)], [batch]);
        c.Builder.Node("Concat", where, [batch, c.Builder.Int64s("cells", hidden)], [dims], OnnxGraphBuilder.Int("axis", 0));
        c.Builder.Node("ConstantOfShape", where, [dims], [zeros]);

        var step = c.Builder.Branch("lstm_step");
        string Temp(string hint) => step.Temporary(hint);
        var (hPrev, cPrev, xt) = (Temp("h_prev"), Temp("c_prev"), Temp("x_t"));
        step.Graph.Input.Add(OnnxGraphBuilder.Value(hPrev, 1, [-1, hidden]));
        step.Graph.Input.Add(OnnxGraphBuilder.Value(cPrev, 1, [-1, hidden]));
        step.Graph.Input.Add(OnnxGraphBuilder.Value(xt, 1, [-1, features]));
        var (fromInput, fromState, gates) = (Temp("from_input"), Temp("from_state"), Temp("gates"));
        step.Node("Gemm", where, [xt, w, b], [fromInput], OnnxGraphBuilder.Int("transB", 1));
        step.Node("Gemm", where, [hPrev, r], [fromState], OnnxGraphBuilder.Int("transB", 1));
        step.Node("Add", where, [fromInput, fromState], [gates]);
        string[] parts = [Temp("pre_i"), Temp("pre_f"), Temp("pre_c"), Temp("pre_o")];
        step.Node("Split", where, [gates, c.Builder.Int64s("gate_sizes", hidden, hidden, hidden, hidden)], parts, OnnxGraphBuilder.Int("axis", 1));
        string Apply(string opType, string value)
        {
            var result = Temp(opType.ToLowerInvariant());
            step.Node(opType, where, [value], [result]);
            return result;
        }

        string Binary(string opType, string left, string right)
        {
            var result = Temp(opType.ToLowerInvariant());
            step.Node(opType, where, [left, right], [result]);
            return result;
        }

        var (inputGate, forgetGate, candidate, outputGate) = (Apply("Sigmoid", parts[0]), Apply("Sigmoid", parts[1]), Apply(activation, parts[2]), Apply("Sigmoid", parts[3]));
        var cell = Binary("Add", Binary("Mul", forgetGate, cPrev), Binary("Mul", inputGate, candidate));
        if (cellClip > 0)
        {
            var clipped = Temp("c_clipped");
            step.Node("Clip", where, [cell, c.Builder.Float("cell_clip_min", [], BitConverter.GetBytes(-cellClip)), c.Builder.Float("cell_clip_max", [], BitConverter.GetBytes(cellClip))], [clipped]);
            cell = clipped;
        }

        var h = Binary("Mul", outputGate, Apply(activation, cell));
        var emitted = Temp("h_out");
        step.Node("Identity", where, [h], [emitted]);
        foreach (var (name, size) in new[] { (h, hidden), (cell, hidden), (emitted, hidden) })
        {
            step.Graph.Output.Add(OnnxGraphBuilder.Value(name, 1, [-1, size]));
        }

        c.Builder.Node("Scan", where, [zeros, zeros, x], [c.Builder.Temporary("h_last"), c.Builder.Temporary("c_last"), c.Name(op.Outputs[0])],
            OnnxGraphBuilder.Subgraph("body", step.Graph), OnnxGraphBuilder.Int("num_scan_inputs", 1),
            OnnxGraphBuilder.Ints("scan_input_axes", axis), OnnxGraphBuilder.Ints("scan_output_axes", axis));
    }

    /// <summary>
    /// SVDF (TFLite's rank-factored time filter, a streaming keyword spotter's layer): each filter's feature
    /// (<c>Gemm</c> of the input with weights_feature) enters the filter's memory at its end, the oldest value leaving,
    /// the memory is weighed by weights_time and summed, filters are summed in groups of <c>rank</c> into units, and the
    /// bias and activation follow. The memory is a TFLite variable carried between invocations; the ONNX graph has
    /// none, so it becomes a graph input with zeros as its default (an overridable initializer: a caller that streams
    /// passes the last state; one that does not gets a freshly reset model) and its updated value an extra graph output
    /// (<c>&lt;name&gt;_next</c>), quantized to the variable's own grid where it is integer, as TFLite keeps it.
    /// </summary>
    private static void Svdf(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        // SVDFOptions: rank, fused activation, asymmetric_quantize_inputs.
        var (rank, activation) = (options.Int(0), options.Byte(1));
        var featureWeights = c.Subgraph.Tensors[op.Inputs[1]];
        var timeWeights = c.Subgraph.Tensors[op.Inputs[2]];
        var state = c.Subgraph.Tensors[op.Inputs[4]];
        if (featureWeights.Shape.Length != 2 || timeWeights.Shape.Length != 2 || rank < 1 || featureWeights.Shape[0] % rank != 0)
        {
            throw new InvalidDataException($"{where}: needs 2-D weights_feature and weights_time and a rank dividing the {featureWeights.Shape.FirstOrDefault()} filters (rank {rank})");
        }

        var (filters, memory) = ((long)featureWeights.Shape[0], (long)timeWeights.Shape[1]);
        if (c.Depth > 0 || !state.IsVariable || state.Shape.Length != 2 || state.Shape[1] != filters * memory)
        {
            throw new InvalidDataException($"{where}: the activation state must be a variable [batch, {filters * memory}] of the main graph");
        }

        // A reset TFLite variable holds real zeros: an integer one its zero point in every element.
        var quantized = Quantized(state);
        var reset = new byte[state.Shape[0] * state.Shape[1] * (quantized ? TypeSize(state) : 4)];
        if (quantized && state.Quantization!.ZeroPoint is [var zero, ..] && zero != 0)
        {
            for (var i = 0; i < reset.Length; i += TypeSize(state))
            {
                if (TypeSize(state) == 2)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(reset.AsSpan(i), (short)zero);
                }
                else
                {
                    reset[i] = (byte)(sbyte)zero;
                }
            }
        }

        var stored = c.Builder.Overridable(state.Name.Length > 0 ? state.Name : "svdf_state", quantized ? IntegerType(state, "state") : ElementType(state, "state"),
            [.. state.Shape.Select(d => (long)d)], reset);

        var feature = c.Builder.Temporary("svdf_feature");
        c.Builder.Node("Gemm", where, [c.Input(op, 0, where), c.Input(op, 1, where)], [feature], OnnxGraphBuilder.Int("transB", 1));
        var column = c.Builder.Temporary("svdf_column");
        c.Builder.Node("Unsqueeze", where, [feature, c.Builder.Int64s("last", 2)], [column]);
        if (quantized)
        {
            // The new values are stored on the state's grid, as TFLite's integer kernel keeps them; the memory moves as
            // integers (ONNX Runtime's QDQ propagation fails on 8-bit DequantizeLinear → Reshape/Slice at opset 21).
            var onGrid = c.Builder.Temporary("svdf_column_q");
            c.Builder.Node("QuantizeLinear", where, [column, .. c.Parameters(state, where)], [onGrid]);
            column = onGrid;
        }

        // [batch, filters × memory] → [batch, filters, memory]: the oldest step leaves, the new feature enters at the end.
        var (cube, older, stacked) = (c.Builder.Temporary("svdf_memory"), c.Builder.Temporary("svdf_older"), c.Builder.Temporary("svdf_stacked"));
        c.Builder.Node("Reshape", where, [stored, c.Builder.Int64s("memory_shape", -1, filters, memory)], [cube]);
        c.Builder.Node("Slice", where, [cube, c.Builder.Int64s("from", 1), c.Builder.Int64s("to", memory), c.Builder.Int64s("time_axis", 2)], [older]);
        c.Builder.Node("Concat", where, [older, column], [stacked], OnnxGraphBuilder.Int("axis", 2));
        var updated = quantized ? c.Dequantize(stacked, state, where) : stacked;

        var (weighed, perFilter) = (c.Builder.Temporary("svdf_weighed"), c.Builder.Temporary("svdf_filters"));
        c.Builder.Node("Mul", where, [updated, c.Input(op, 2, where)], [weighed]);
        c.Builder.Node("ReduceSum", where, [weighed, c.Builder.Int64s("time_axis", 2)], [perFilter], OnnxGraphBuilder.Int("keepdims", 0));
        var units = perFilter;
        if (rank > 1)
        {
            var (grouped, summed) = (c.Builder.Temporary("svdf_ranks"), c.Builder.Temporary("svdf_units"));
            c.Builder.Node("Reshape", where, [perFilter, c.Builder.Int64s("rank_shape", -1, filters / rank, rank)], [grouped]);
            c.Builder.Node("ReduceSum", where, [grouped, c.Builder.Int64s("rank_axis", 2)], [summed], OnnxGraphBuilder.Int("keepdims", 0));
            units = summed;
        }

        if (op.Inputs.Length > 3 && op.Inputs[3] >= 0)
        {
            var biased = c.Builder.Temporary("svdf_biased");
            c.Builder.Node("Add", where, [units, c.Input(op, 3, where)], [biased]);
            units = biased;
        }

        if (activation == 0)
        {
            c.Builder.Node("Identity", where, [units], [c.Name(op.Outputs[0])]);
        }
        else
        {
            Activation(c, units, c.Name(op.Outputs[0]), activation, where);
        }

        var next = c.Builder.Name(stored + "_next");
        c.Builder.Node("Reshape", where, [stacked, c.Builder.Int64s("state_shape", -1, filters * memory)], [next]);

        c.StateOutputs.Add(OnnxGraphBuilder.Value(next, quantized ? IntegerType(state, "state") : ElementType(state, "state"), [.. state.Shape.Select(d => (long)d)]));
    }

    private static int TypeSize(TfliteTensor tensor) => tensor.Type switch { TfliteTensorType.Int16 => 2, _ => 1 };

    /// <summary>
    /// QUANTIZE to int32: no QuantizeLinear writes int32, and float32 cannot hold 31 bits, so the input's integers (a
    /// quantized graph input, or an operator's requantized output) are rescaled in float64 (round half to even).
    /// </summary>
    private static void QuantizeToInt32(Context c, TfliteOperator op, string where)
    {
        var source = c.Subgraph.Tensors[op.Inputs[0]];
        var target = c.Subgraph.Tensors[op.Outputs[0]];
        if (target.Quantization!.PerChannel || source.Quantization is not { PerChannel: false } || !c.Integers.TryGetValue(op.Inputs[0], out var integer))
        {
            throw new InvalidDataException($"{where}: a QUANTIZE to int32 is converted from a per-tensor quantized value only");
        }

        double Zero(TfliteTensor t) => t.Quantization!.ZeroPoint.Length == 0 ? 0 : t.Quantization.ZeroPoint[0];
        var wide = c.Builder.Temporary("wide");
        c.Builder.Node("Cast", where, [integer], [wide], OnnxGraphBuilder.Int("to", 11));
        var centred = c.Builder.Temporary("centred");
        c.Builder.Node("Sub", where, [wide, c.Builder.Double("zero_in", Zero(source))], [centred]);
        var scaled = c.Builder.Temporary("scaled");
        c.Builder.Node("Mul", where, [centred, c.Builder.Double("rescale", (double)source.Quantization.Scale[0] / target.Quantization.Scale[0])], [scaled]);
        var rounded = c.Builder.Temporary("rounded");
        c.Builder.Node("Round", where, [scaled], [rounded]);
        var shifted = c.Builder.Temporary("shifted");
        c.Builder.Node("Add", where, [rounded, c.Builder.Double("zero_out", Zero(target))], [shifted]);
        var result = c.Builder.Temporary("int32");
        c.Builder.Node("Cast", where, [shifted], [result], OnnxGraphBuilder.Int("to", 6));
        c.Integers[op.Outputs[0]] = result;
        c.Bind(op.Outputs[0], c.Dequantize(result, target, where));
    }

    /// <summary>TFLite's padding (SAME pads the extra row or column at the end, as ONNX's SAME_UPPER does).</summary>
    private static AttributeProto AutoPad(byte padding) => padding switch
    {
        0 => OnnxGraphBuilder.String("auto_pad", "SAME_UPPER"),
        1 => OnnxGraphBuilder.String("auto_pad", "VALID"),
        _ => throw new InvalidDataException($"padding {padding} is neither SAME nor VALID"),
    };

    private static long[] LastTwoSwapped(int rank) => [.. Enumerable.Range(0, rank - 2).Select(i => (long)i), rank - 1, rank - 2];

    private static string Transposed(Context c, string input, long[] perm, string where)
    {
        var output = c.Builder.Temporary("transposed");
        c.Builder.Node("Transpose", where, [input], [output], OnnxGraphBuilder.Ints("perm", perm));
        return output;
    }

    /// <summary>Writes an NCHW result into the (NHWC) TFLite output: transposed back, through its fused activation if any.</summary>
    private static void Finish(Context c, string nchw, int output, byte activation, string where)
    {
        if (activation == 0)
        {
            c.Builder.Node("Transpose", where, [nchw], [c.Name(output)], OnnxGraphBuilder.Ints("perm", ToNhwc));
        }
        else
        {
            Activation(c, Transposed(c, nchw, ToNhwc, where), c.Name(output), activation, where);
        }
    }

    /// <summary>
    /// FULLY_CONNECTED: the input flattened to [rows, in], times the weights [out, in] transposed, plus the bias, as Gemm;
    /// reshaped back to the output's shape when that is not 2-D (keep_num_dims), then the fused activation.
    /// </summary>
    private static void FullyConnected(Context c, TfliteOperator op, TfliteOptions options, string where)
    {
        if (options.Byte(1) != 0)
        {
            throw new InvalidDataException($"{where}: shuffled weights (weights_format {options.Byte(1)}) are not supported");
        }

        var weights = c.Subgraph.Tensors[op.Inputs[1]];
        if (weights.Shape.Length != 2)
        {
            throw new InvalidDataException($"{where}: weights '{weights.Name}' are not 2-D");
        }

        var input = c.Input(op, 0, where);
        var inputTensor = c.Subgraph.Tensors[op.Inputs[0]];
        if (inputTensor.Shape.Length != 2)
        {
            var flat = c.Builder.Temporary("flat");
            c.Builder.Node("Reshape", where, [input, c.Builder.Int64s("flat_shape", -1, weights.Shape[1])], [flat]);
            input = flat;
        }

        string[] inputs = op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? [input, c.Input(op, 1, where), c.Input(op, 2, where)] : [input, c.Input(op, 1, where)];
        var output = c.Subgraph.Tensors[op.Outputs[0]];
        var product = output.Shape.Length == 2 ? null : c.Builder.Temporary("gemm");
        var activation = options.Byte(0);
        var gemmOut = product ?? (activation == 0 ? c.Name(op.Outputs[0]) : c.Builder.Temporary("gemm"));
        c.Builder.Node("Gemm", where, inputs, [gemmOut], OnnxGraphBuilder.Int("transB", 1));
        var last = gemmOut;
        if (product is not null)
        {
            var reshaped = activation == 0 ? c.Name(op.Outputs[0]) : c.Builder.Temporary("reshaped");
            c.Builder.Node("Reshape", where, [product, c.Builder.Int64s("out_shape", [.. Shape(output)])], [reshaped]);
            last = reshaped;
        }

        if (activation != 0)
        {
            Activation(c, last, c.Name(op.Outputs[0]), activation, where);
        }
    }

    /// <summary>An elementwise node followed by its fused activation (none: the node writes the output itself).</summary>
    private static void Activated(Context c, string opType, string[] inputs, int output, byte activation, string where)
    {
        if (activation == 0)
        {
            c.Builder.Node(opType, where, inputs, [c.Name(output)]);
            return;
        }

        var raw = c.Builder.Temporary(opType.ToLowerInvariant());
        c.Builder.Node(opType, where, inputs, [raw]);
        Activation(c, raw, c.Name(output), activation, where);
    }

    private static void Activation(Context c, string input, string output, byte activation, string where)
    {
        switch (activation)
        {
            case 1:
                c.Builder.Node("Relu", where, [input], [output]);
                break;
            case 2 or 3:
                var (low, high) = activation == 2 ? (-1f, 1f) : (0f, 6f);
                c.Builder.Node("Clip", where, [input, c.Builder.Float("min", [], BitConverter.GetBytes(low)), c.Builder.Float("max", [], BitConverter.GetBytes(high))], [output]);
                break;
            case 4:
                c.Builder.Node("Tanh", where, [input], [output]);
                break;
            default:
                throw new InvalidDataException($"{where}: fused activation {activation} (SIGN_BIT or unknown) is not supported");
        }
    }

    /// <summary>An integer tensor with scales that QuantizeLinear and DequantizeLinear carry: int8, uint8 and (opset 21) int16.</summary>
    private static bool Quantized(TfliteTensor tensor) => tensor.Quantization is not null && tensor.Type is TfliteTensorType.Int8 or TfliteTensorType.UInt8 or TfliteTensorType.Int16;

    private static int IntegerType(TfliteTensor tensor, string role) => tensor.Type switch
    {
        TfliteTensorType.Int8 => 3,
        TfliteTensorType.UInt8 => 2,
        TfliteTensorType.Int16 => 5,
        TfliteTensorType.Int32 => 6,
        _ => throw new InvalidDataException($"the {role} '{tensor.Name}' is {tensor.Type}, which the importer does not quantize"),
    };

    private static long[] Shape(TfliteTensor tensor) => [.. (tensor.ShapeSignature ?? tensor.Shape).Select(d => (long)d)];

    private static int ElementType(TfliteTensor tensor, string role) => tensor.Type switch
    {
        TfliteTensorType.Float32 => 1,
        TfliteTensorType.Int32 => 6, // shapes, as TRANSPOSE_CONV's output_shape
        _ => throw new InvalidDataException($"the {role} '{tensor.Name}' is {tensor.Type}: the importer takes float32 graphs, int32 shapes and quantized integers"),
    };

    /// <summary>
    /// The subgraph being converted, its tensors' ONNX names (an IF branch's inputs named as the enclosing graph's values),
    /// and the initializers made from its constants.
    /// </summary>
    private sealed class Context(TfliteModel model, TfliteSubgraph subgraph, OnnxGraphBuilder builder, ImportReport report, Dictionary<int, string> outer, int depth, long opset)
    {
        private readonly Dictionary<int, string> _names = new(outer);
        private readonly Dictionary<TfliteTensor, string[]> _parameters = new(ReferenceEqualityComparer.Instance);

        public ImportReport Report { get; } = report;

        public int Depth { get; } = depth;

        public long Opset { get; } = opset;

        /// <summary>Tensors whose integer value the graph holds as well (quantized graph inputs, requantized outputs, QUANTIZE to int32), by index.</summary>
        public Dictionary<int, string> Integers { get; } = [];

        /// <summary>The updated values of TFLite variables, graph outputs after the model's own.</summary>
        public List<ValueInfoProto> StateOutputs { get; } = [];

        public TfliteModel Model { get; } = model;

        public TfliteSubgraph Subgraph { get; } = subgraph;

        public OnnxGraphBuilder Builder { get; } = builder;

        public string TensorName(int index) => index >= 0 ? Subgraph.Tensors[index].Name : "";

        /// <summary>The ONNX name of tensor <paramref name="index"/> (its TFLite name, made unique).</summary>
        public string Name(int index)
        {
            if (!_names.TryGetValue(index, out var name))
            {
                name = Builder.Name(Subgraph.Tensors[index].Name);
                _names[index] = name;
            }

            return name;
        }

        /// <summary>Names tensor <paramref name="index"/>'s value (a dequantized input, an operator's float result before requantizing).</summary>
        public void Bind(int index, string name) => _names[index] = name;

        /// <summary>
        /// A quantized tensor's scale and zero point as initializers (one each, or one per slice along its quantized
        /// dimension), made once per tensor and shared by its QuantizeLinear and DequantizeLinear nodes.
        /// </summary>
        public string[] Parameters(TfliteTensor tensor, string where)
        {
            if (_parameters.TryGetValue(tensor, out var made))
            {
                return made;
            }

            var q = tensor.Quantization!;
            if (q.ZeroPoint.Length != q.Scale.Length && q.ZeroPoint.Length > 1)
            {
                throw new InvalidDataException($"{where}: '{tensor.Name}' has {q.Scale.Length} scales and {q.ZeroPoint.Length} zero points");
            }

            long[] dims = q.PerChannel ? [q.Scale.Length] : [];
            var scale = Builder.Float(tensor.Name + "_scale", dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.Scale.AsSpan()));
            var zeros = Enumerable.Range(0, q.Scale.Length).Select(i => q.ZeroPoint.Length == 0 ? 0 : q.ZeroPoint[Math.Min(i, q.ZeroPoint.Length - 1)]).ToArray();
            var zeroPoint = tensor.Type switch
            {
                TfliteTensorType.Int8 => Builder.Initializer(tensor.Name + "_zero_point", 3, dims, [.. zeros.Select(z => (byte)(sbyte)z)]),
                TfliteTensorType.UInt8 => Builder.Initializer(tensor.Name + "_zero_point", 2, dims, [.. zeros.Select(z => (byte)z)]),
                TfliteTensorType.Int16 => Builder.Initializer(tensor.Name + "_zero_point", 5, dims, [.. zeros.SelectMany(z => BitConverter.GetBytes((short)z))]),
                TfliteTensorType.Int32 => Builder.Initializer(tensor.Name + "_zero_point", 6, dims, [.. zeros.SelectMany(z => BitConverter.GetBytes((int)z))]),
                _ => throw new InvalidDataException($"{where}: '{tensor.Name}' is {tensor.Type}, which the importer does not quantize"),
            };
            return _parameters[tensor] = [scale, zeroPoint];
        }

        /// <summary>
        /// DequantizeLinear of an integer value with <paramref name="tensor"/>'s parameters; returns the float value's name.
        /// Per-channel scales apply along the tensor's quantized dimension, or along <paramref name="axis"/> when the
        /// value's dimensions were reordered.
        /// </summary>
        public string Dequantize(string integer, TfliteTensor tensor, string where, int? axis = null)
        {
            var value = Builder.Temporary("dequantized");
            var q = tensor.Quantization!;
            var attributes = q.PerChannel ? new[] { OnnxGraphBuilder.Int("axis", axis ?? q.QuantizedDimension) } : [];
            Builder.Node("DequantizeLinear", where, [integer, .. Parameters(tensor, where)], [value], attributes);
            return value;
        }

        /// <summary>Whether tensor <paramref name="index"/> holds constant data (or is a constant of no elements, as an empty shape is).</summary>
        public bool IsConstant(int index) => !Model.Buffer(Subgraph.Tensors[index].Buffer).IsEmpty || IsEmptyConstant(Subgraph.Tensors[index]);

        private static bool IsEmptyConstant(TfliteTensor tensor) => tensor.Shape.Length > 0 && tensor.Shape.Contains(0) && !tensor.IsVariable;

        /// <summary>An operator's input as an ONNX value: a constant becomes an initializer the first time it is used.</summary>
        public string Input(TfliteOperator op, int position, string where) => Value(op.Inputs[position], where);

        /// <summary>Tensor <paramref name="index"/> as an ONNX value (see <see cref="Input"/>).</summary>
        public string Value(int index, string where)
        {
            var tensor = Subgraph.Tensors[index];
            var data = Model.Buffer(tensor.Buffer);
            if (data.IsEmpty || _names.ContainsKey(index))
            {
                return Name(index);
            }

            if (tensor.Type == TfliteTensorType.Bool)
            {
                var flags = Builder.Initializer(tensor.Name, 9, [.. tensor.Shape.Select(d => (long)d)], data);
                _names[index] = flags;
                return flags;
            }

            if (tensor is { Type: TfliteTensorType.Int64, Quantization: { } wide })
            {
                // An int64 bias (16-bit activations with 8-bit weights): DequantizeLinear takes no int64, so it is
                // dequantized here, once, along its one dimension when per channel.
                var count64 = tensor.Shape.Aggregate(1L, (a, d) => a * d);
                if (data.Length != count64 * 8 || (wide.PerChannel && wide.Scale.Length != count64))
                {
                    throw new InvalidDataException($"{where}: constant '{tensor.Name}' has {data.Length} bytes and {wide.Scale.Length} scales for shape [{string.Join(",", tensor.Shape)}] of int64");
                }

                var values = new float[count64];
                for (var i = 0; i < values.Length; i++)
                {
                    var channel = wide.PerChannel ? i : 0;
                    var zero = wide.ZeroPoint.Length == 0 ? 0 : wide.ZeroPoint[Math.Min(channel, wide.ZeroPoint.Length - 1)];
                    values[i] = (float)((BinaryPrimitives.ReadInt64LittleEndian(data[(8 * i)..]) - zero) * (double)wide.Scale[channel]);
                }

                var dequantized = Builder.Float(tensor.Name, [.. tensor.Shape.Select(d => (long)d)], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                _names[index] = dequantized;
                return dequantized;
            }

            if (tensor.Quantization is not null && tensor.Type is TfliteTensorType.Int8 or TfliteTensorType.UInt8 or TfliteTensorType.Int16 or TfliteTensorType.Int32)
            {
                // A quantized constant (weights, biases) stays integer, dequantized where it is used.
                var type = tensor.Type switch { TfliteTensorType.Int8 => 3, TfliteTensorType.UInt8 => 2, TfliteTensorType.Int16 => 5, _ => 6 };
                var size = tensor.Type switch { TfliteTensorType.Int32 => 4, TfliteTensorType.Int16 => 2, _ => 1 };
                if (data.Length != tensor.Shape.Aggregate(1L, (a, d) => a * d) * size)
                {
                    throw new InvalidDataException($"{where}: constant '{tensor.Name}' has {data.Length} bytes for shape [{string.Join(",", tensor.Shape)}] of {tensor.Type}");
                }

                var integer = Builder.Initializer(tensor.Name, type, [.. tensor.Shape.Select(d => (long)d)], data);
                var real = Dequantize(integer, tensor, where);
                _names[index] = real;
                return real;
            }

            if (tensor.Type != TfliteTensorType.Float32)
            {
                throw new InvalidDataException($"{where}: constant '{tensor.Name}' is {tensor.Type}: the importer takes float32 and int8/uint8/int16/int32/int64 quantized constants");
            }

            var count = tensor.Shape.Aggregate(1L, (a, d) => a * d);
            if (data.Length != count * 4)
            {
                throw new InvalidDataException($"{where}: constant '{tensor.Name}' has {data.Length} bytes for shape [{string.Join(",", tensor.Shape)}] of float32");
            }

            var name = Builder.Float(tensor.Name, [.. tensor.Shape.Select(d => (long)d)], data);
            _names[index] = name;
            return name;
        }

        /// <summary>
        /// A constant 4-D filter in ONNX's layout: its dimensions reordered by <paramref name="perm"/> (target dimension k is
        /// source dimension perm[k]) once, here. A float filter is a float initializer; an int8 one stays int8 and is
        /// dequantized, per channel along wherever its quantized dimension went.
        /// </summary>
        public string Filter(int index, int[] perm, string where)
        {
            var tensor = Subgraph.Tensors[index];
            var data = Model.Buffer(tensor.Buffer);
            var size = tensor.Type switch { TfliteTensorType.Float32 => 4, TfliteTensorType.Int8 when tensor.Quantization is not null => 1, _ => 0 };
            if (size == 0 || data.IsEmpty)
            {
                throw new InvalidDataException($"{where}: filter '{tensor.Name}' must be a float32 or quantized int8 constant (it is {tensor.Type}{(data.IsEmpty ? ", computed at run time" : "")})");
            }

            var dims = tensor.Shape;
            if (data.Length != (long)size * dims[0] * dims[1] * dims[2] * dims[3])
            {
                throw new InvalidDataException($"{where}: filter '{tensor.Name}' has {data.Length} bytes for shape [{string.Join(",", dims)}] of {tensor.Type}");
            }

            var target = new long[] { dims[perm[0]], dims[perm[1]], dims[perm[2]], dims[perm[3]] };
            var strides = new[] { dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1 };
            var bytes = new byte[data.Length];
            var at = 0;
            for (var a = 0; a < target[0]; a++)
            {
                for (var b = 0; b < target[1]; b++)
                {
                    for (var c = 0; c < target[2]; c++)
                    {
                        for (var d = 0; d < target[3]; d++)
                        {
                            var source = (a * strides[perm[0]]) + (b * strides[perm[1]]) + (c * strides[perm[2]]) + (d * strides[perm[3]]);
                            data.Slice(source * size, size).CopyTo(bytes.AsSpan(at * size, size));
                            at++;
                        }
                    }
                }
            }

            if (size == 4)
            {
                return Builder.Float(tensor.Name + "_onnx_layout", target, bytes);
            }

            var integer = Builder.Initializer(tensor.Name + "_onnx_layout", 3, target, bytes);
            return Dequantize(integer, tensor, where, Array.IndexOf(perm, tensor.Quantization!.QuantizedDimension));
        }

        /// <summary>A constant int32 tensor's values (shapes, axes).</summary>
        public int[] ConstantInts(int index, string where)
        {
            var tensor = Subgraph.Tensors[index];
            var data = Model.Buffer(tensor.Buffer);
            if (tensor.Type == TfliteTensorType.Int32 && IsEmptyConstant(tensor))
            {
                return [];
            }

            if (tensor.Type != TfliteTensorType.Int32 || data.IsEmpty)
            {
                throw new InvalidDataException($"{where}: '{tensor.Name}' must be a constant int32 tensor (it is {tensor.Type}{(data.IsEmpty ? ", computed at run time" : "")})");
            }

            var values = new int[data.Length / 4];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(4 * i)..]);
            }

            return values;
        }
    }
}
