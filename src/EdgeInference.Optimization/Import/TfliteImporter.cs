using System.Buffers.Binary;
using EdgeInference.Optimization.Tflite;
using Onnx;

namespace EdgeInference.Optimization.Import;

/// <summary>
/// TFLite → ONNX (opset 13), operator by operator, for float models. Every operator, option and type it does not
/// handle is refused with its name and where it is (an <see cref="InvalidDataException"/>), never converted wrongly.
/// Graph inputs and outputs keep their TFLite names and shapes (dynamic dimensions symbolic); constant tensors become
/// initializers; fused activations become their own nodes.
/// </summary>
public static class TfliteImporter
{
    public const long Opset = 13;

    /// <summary>The TFLite operators the importer converts.</summary>
    public static IReadOnlySet<string> Supported { get; } = new HashSet<string>(
        ["ADD", "SUB", "MUL", "FULLY_CONNECTED", "RESHAPE", "LOGISTIC", "SOFTMAX", "MEAN", "RSQRT"], StringComparer.Ordinal);

    /// <summary>Converts <paramref name="model"/>'s main subgraph; the report counts what was converted.</summary>
    public static (ModelProto Model, ImportReport Report) Import(TfliteModel model, string graphName)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Subgraphs.Count > 1)
        {
            throw new InvalidDataException($"the model has {model.Subgraphs.Count} subgraphs (IF/WHILE bodies): the importer converts single-graph models so far");
        }

        var context = new Context(model, model.Subgraphs[0], new OnnxGraphBuilder(graphName));
        var report = new ImportReport { Opset = Opset };
        for (var index = 0; index < context.Subgraph.Operators.Count; index++)
        {
            var op = context.Subgraph.Operators[index];
            if (!Supported.Contains(op.Name))
            {
                throw new InvalidDataException($"operator {index} ({op.Name}, output '{context.TensorName(op.Outputs.FirstOrDefault(-1))}') is not one the importer converts (it converts {string.Join(", ", Supported.Order(StringComparer.Ordinal))})");
            }

            Convert(context, op, index);
            report.Converted[op.Name] = report.Converted.GetValueOrDefault(op.Name) + 1;
        }

        var graph = context.Builder.Graph;
        foreach (var input in context.Subgraph.Inputs)
        {
            graph.Input.Add(OnnxGraphBuilder.Value(context.Name(input), ElementType(context.Subgraph.Tensors[input], "input"), Shape(context.Subgraph.Tensors[input])));
        }

        foreach (var output in context.Subgraph.Outputs)
        {
            graph.Output.Add(OnnxGraphBuilder.Value(context.Name(output), ElementType(context.Subgraph.Tensors[output], "output"), Shape(context.Subgraph.Tensors[output])));
        }

        foreach (var node in graph.Node)
        {
            report.Nodes[node.OpType] = report.Nodes.GetValueOrDefault(node.OpType) + 1;
        }

        report.Initializers = graph.Initializer.Count;
        var onnx = new ModelProto { IrVersion = 8, ProducerName = "edgefleet models import", ProducerVersion = "1", Graph = graph };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return (onnx, report);
    }

    private static void Convert(Context c, TfliteOperator op, int index)
    {
        var where = $"operator {index} ({op.Name})";
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
                var shape = op.Inputs.Length > 1 && op.Inputs[1] >= 0 ? c.ConstantInts(op.Inputs[1], where) : options.Ints(0);
                c.Builder.Node("Reshape", where, [c.Input(op, 0, where), c.Builder.Int64s("shape", [.. shape.Select(d => (long)d)])], [c.Name(op.Outputs[0])]);
                break;
            }

            case "MEAN":
            {
                var axes = c.ConstantInts(op.Inputs[1], where);
                c.Builder.Node("ReduceMean", where, [c.Input(op, 0, where)], [c.Name(op.Outputs[0])],
                    OnnxGraphBuilder.Ints("axes", [.. axes.Select(a => (long)a)]), OnnxGraphBuilder.Int("keepdims", options.Bool(0) ? 1 : 0));
                break;
            }

            case "FULLY_CONNECTED":
                FullyConnected(c, op, options, where);
                break;
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

    private static long[] Shape(TfliteTensor tensor) => [.. (tensor.ShapeSignature ?? tensor.Shape).Select(d => (long)d)];

    private static int ElementType(TfliteTensor tensor, string role) => tensor.Type switch
    {
        TfliteTensorType.Float32 => 1,
        _ => throw new InvalidDataException($"the {role} '{tensor.Name}' is {tensor.Type}: the importer takes float32 graphs so far"),
    };

    /// <summary>The subgraph being converted, its tensors' ONNX names, and the initializers made from its constants.</summary>
    private sealed class Context(TfliteModel model, TfliteSubgraph subgraph, OnnxGraphBuilder builder)
    {
        private readonly Dictionary<int, string> _names = [];

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

        /// <summary>An operator's input as an ONNX value: a constant becomes an initializer the first time it is used.</summary>
        public string Input(TfliteOperator op, int position, string where)
        {
            var index = op.Inputs[position];
            var tensor = Subgraph.Tensors[index];
            var data = Model.Buffer(tensor.Buffer);
            if (data.IsEmpty || _names.ContainsKey(index))
            {
                return Name(index);
            }

            if (tensor.Type != TfliteTensorType.Float32)
            {
                throw new InvalidDataException($"{where}: constant '{tensor.Name}' is {tensor.Type}: the importer takes float32 constants so far");
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

        /// <summary>A constant int32 tensor's values (shapes, axes).</summary>
        public int[] ConstantInts(int index, string where)
        {
            var tensor = Subgraph.Tensors[index];
            var data = Model.Buffer(tensor.Buffer);
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
