using System.Runtime.InteropServices;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing.Onnx.Proto;
using Google.Protobuf;

namespace EdgeInference.Testing.Onnx;

/// <summary>Builds small real ONNX models (opset 17) for tests and benchmarks: identities of every type, MLPs, broken files.</summary>
public static class OnnxModelBuilder
{
    /// <summary><c>y = Identity(x)</c> with <paramref name="shape"/> (-1 dynamic) and the given element type.</summary>
    public static byte[] Identity(TensorDataType type, long[] shape)
    {
        var graph = new GraphProto { Name = "identity" };
        graph.Input.Add(Value("x", type, shape));
        graph.Output.Add(Value("y", type, shape));
        graph.Node.Add(Node("Identity", ["x"], ["y"]));
        return Model(graph);
    }

    /// <summary>
    /// A dense scorer: <c>[batch, inputs] → hidden layers with ReLU → [batch, 1]</c>, weights drawn from
    /// <paramref name="seed"/>. With 512 inputs and hidden 1024, 512 it holds about 4 MB of weights.
    /// </summary>
    public static byte[] Mlp(int inputs, int[] hidden, int seed = 7)
    {
        var random = new Random(seed);
        var graph = new GraphProto { Name = "mlp" };
        graph.Input.Add(Value("features", TensorDataType.Fp32, [-1, inputs]));
        graph.Output.Add(Value("score", TensorDataType.Fp32, [-1, 1]));
        var previous = "features";
        var width = inputs;
        var layers = hidden.Append(1).ToArray();
        for (var i = 0; i < layers.Length; i++)
        {
            var scale = (float)Math.Sqrt(2.0 / width);
            graph.Initializer.Add(FloatTensor($"w{i}", [width, layers[i]], random, scale));
            graph.Initializer.Add(FloatTensor($"b{i}", [layers[i]], random, 0.01f));
            graph.Node.Add(Node("MatMul", [previous, $"w{i}"], [$"mm{i}"]));
            var last = i == layers.Length - 1;
            graph.Node.Add(Node("Add", [$"mm{i}", $"b{i}"], [last ? "score" : $"add{i}"]));
            if (!last)
            {
                graph.Node.Add(Node("Relu", [$"add{i}"], [$"relu{i}"]));
                previous = $"relu{i}";
            }

            width = layers[i];
        }

        return Model(graph);
    }

    /// <summary><c>y = x * 2</c> and <c>z = x + 1</c>: two outputs, for requested-output tests.</summary>
    public static byte[] TwoOutputs()
    {
        var graph = new GraphProto { Name = "two_outputs" };
        graph.Input.Add(Value("x", TensorDataType.Fp32, [-1, 4]));
        graph.Output.Add(Value("doubled", TensorDataType.Fp32, [-1, 4]));
        graph.Output.Add(Value("plus_one", TensorDataType.Fp32, [-1, 4]));
        graph.Initializer.Add(new TensorProto { Name = "two", DataType = 1, FloatData = { 2f } });
        graph.Initializer.Add(new TensorProto { Name = "one", DataType = 1, FloatData = { 1f } });
        graph.Node.Add(Node("Mul", ["x", "two"], ["doubled"]));
        graph.Node.Add(Node("Add", ["x", "one"], ["plus_one"]));
        return Model(graph);
    }

    /// <summary>
    /// <c>indices = Transpose(NonZero(x))</c>: the positions of <c>x</c>'s non-zero values as <c>[count, 1]</c>, an
    /// output whose first dimension depends on the data, not on the input's shape.
    /// </summary>
    public static byte[] NonZeroIndices()
    {
        var graph = new GraphProto { Name = "nonzero_indices" };
        graph.Input.Add(Value("x", TensorDataType.Fp32, [-1]));
        graph.Output.Add(Value("indices", TensorDataType.Int64, [-1, 1]));
        graph.Node.Add(Node("NonZero", ["x"], ["positions"]));
        graph.Node.Add(Node("Transpose", ["positions"], ["indices"]));
        return Model(graph);
    }

    public static void Write(string directory, byte[] model, string? config = null)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "model.onnx"), model);
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(directory)!, "config.json"), config);
        }
    }

    private static byte[] Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "edgeinference-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = op + "_" + outputs[0] };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        return node;
    }

    private static ValueInfoProto Value(string name, TensorDataType type, long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        for (var i = 0; i < shape.Length; i++)
        {
            tensorShape.Dim.Add(shape[i] < 0
                ? new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "batch" : $"d{i}" }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type.ToOnnx(), Shape = tensorShape } },
        };
    }

    private static TensorProto FloatTensor(string name, long[] dims, Random random, float scale)
    {
        var count = (int)TensorShape.ElementCount(dims);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        var tensor = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.Add(dims);
        return tensor;
    }
}
