using Google.Protobuf;
using Onnx;

namespace EdgeInference.Optimization.Import;

/// <summary>
/// Builds one ONNX graph: nodes in order, initializers, and names that never collide, across the model: a branch's
/// builder (<see cref="Branch"/>) shares its parent's names, since a subgraph sees the names of the graphs around it.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names;
    private readonly int[] _counter;

    public OnnxGraphBuilder(string name)
        : this(name, new HashSet<string>(StringComparer.Ordinal), [0])
    {
    }

    private OnnxGraphBuilder(string name, HashSet<string> names, int[] counter)
    {
        _names = names;
        _counter = counter;
        Graph = new GraphProto { Name = Name(name) };
    }

    /// <summary>A builder for a subgraph (an <c>If</c> branch), naming within the same model.</summary>
    public OnnxGraphBuilder Branch(string name) => new(name, _names, _counter);

    public GraphProto Graph { get; }

    /// <summary>Claims <paramref name="wanted"/>, or a variant of it when taken.</summary>
    public string Name(string wanted)
    {
        var name = wanted.Length == 0 ? "t" : wanted;
        while (!_names.Add(name))
        {
            name = $"{wanted}__{++_counter[0]}";
        }

        return name;
    }

    /// <summary>A fresh name for an intermediate value made by the importer.</summary>
    public string Temporary(string hint) => Name($"{hint}__{++_counter[0]}");

    public void Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Name(name) };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
    }

    public string Float(string name, long[] dims, ReadOnlySpan<byte> littleEndianData) => Initializer(name, (int)TensorProto.Types.DataType.Float, dims, littleEndianData);

    /// <summary>An initializer of ONNX element type <paramref name="elementType"/> (1 float, 2 uint8, 3 int8, 6 int32, 9 bool), its little-endian bytes as given.</summary>
    public string Initializer(string name, int elementType, long[] dims, ReadOnlySpan<byte> data)
    {
        var tensor = new TensorProto { Name = Name(name), DataType = elementType, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>
    /// A graph input with a default: an initializer of the same name, which a caller may override (ONNX Runtime lists it
    /// among the overridable initializers) and otherwise reads as given.
    /// </summary>
    public string Overridable(string name, int elementType, long[] dims, ReadOnlySpan<byte> data)
    {
        var tensor = new TensorProto { Name = Name(name), DataType = elementType, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        Graph.Initializer.Add(tensor);
        Graph.Input.Add(Value(tensor.Name, elementType, dims));
        return tensor.Name;
    }

    public string Int64s(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = Name(name), DataType = 7 /* INT64 */ };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A float64 scalar initializer.</summary>
    public string Double(string name, double value)
    {
        var tensor = new TensorProto { Name = Name(name), DataType = 11 /* DOUBLE */ };
        tensor.DoubleData.Add(value);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Subgraph(string name, GraphProto graph) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = graph };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Strings(string name, params string[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static ValueInfoProto Value(string name, int elementType, IEnumerable<long> shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = elementType, Shape = new TensorShapeProto() };
        var symbolic = 0;
        foreach (var dimension in shape)
        {
            tensor.Shape.Dim.Add(dimension >= 0
                ? new TensorShapeProto.Types.Dimension { DimValue = dimension }
                : new TensorShapeProto.Types.Dimension { DimParam = $"{name}_d{symbolic++}" });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
