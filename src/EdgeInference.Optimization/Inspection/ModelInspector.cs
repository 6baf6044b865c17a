using System.Security.Cryptography;
using EdgeInference.Optimization.Tflite;
using Google.Protobuf;
using Onnx;

namespace EdgeInference.Optimization.Inspection;

/// <summary>Reads a model file, TFLite or ONNX (told apart by TFLite's <c>TFL3</c> identifier), into a <see cref="ModelInspection"/>.</summary>
public static class ModelInspector
{
    /// <summary>Operators that only quantized ONNX graphs hold.</summary>
    private static readonly HashSet<string> QuantizedOnnxOperators =
        new(["QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "QLinearAdd", "QLinearMul"], StringComparer.Ordinal);

    private static readonly string[] OnnxTypes =
    [
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
    ];

    /// <summary>Inspects <paramref name="path"/>; a file that is neither format, or is damaged, is an <see cref="InvalidDataException"/> saying which and why.</summary>
    public static ModelInspection Inspect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var data = File.ReadAllBytes(path);
        var inspection = TfliteModel.Recognizes(data) ? Tflite(TfliteModel.Parse(data)) : Onnx(data);
        inspection.File = Path.GetFileName(path);
        inspection.Bytes = data.Length;
        inspection.Sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        return inspection;
    }

    private static ModelInspection Tflite(TfliteModel model)
    {
        var main = model.Subgraphs[0];
        TensorSummary Summary(int index)
        {
            var tensor = main.Tensors[index];
            return new TensorSummary
            {
                Name = tensor.Name, Type = TypeName(tensor.Type), Shape = [.. (tensor.ShapeSignature ?? tensor.Shape).Select(d => (long)d)],
                Scale = tensor.Quantization?.Scale.ToList(), ZeroPoint = tensor.Quantization?.ZeroPoint.ToList(),
            };
        }

        var inspection = new ModelInspection
        {
            Format = "tflite", FormatVersion = model.Version, Producer = model.Description, Subgraphs = model.Subgraphs.Count,
            Inputs = [.. main.Inputs.Select(Summary)], Outputs = [.. main.Outputs.Select(Summary)],
        };
        foreach (var op in model.Subgraphs.SelectMany(s => s.Operators))
        {
            inspection.Operators[op.Name] = inspection.Operators.GetValueOrDefault(op.Name) + 1;
        }

        foreach (var tensor in model.Subgraphs.SelectMany(s => s.Tensors))
        {
            inspection.TensorTypes[TypeName(tensor.Type)] = inspection.TensorTypes.GetValueOrDefault(TypeName(tensor.Type)) + 1;
        }

        var quantized = model.Subgraphs.SelectMany(s => s.Tensors).Where(t => t.Quantization is not null && t.Type is TfliteTensorType.Int8 or TfliteTensorType.UInt8 or TfliteTensorType.Int16).ToArray();
        inspection.Quantized = quantized.Length > 0;
        inspection.QuantizedBecause = quantized.Length > 0
            ? $"{quantized.Length} integer tensors carry scales and zero points ({string.Join(", ", quantized.GroupBy(t => TypeName(t.Type)).Select(g => $"{g.Count()} {g.Key}"))}; {quantized.Count(t => t.Quantization!.PerChannel)} per-channel)"
            : "no integer tensor carries a scale";
        return inspection;
    }

    private static ModelInspection Onnx(byte[] data)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(data);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"neither a TFLite model (no TFL3 identifier) nor an ONNX model ({ex.Message})", ex);
        }

        if (model.Graph is not { } graph || model.IrVersion <= 0)
        {
            throw new InvalidDataException("neither a TFLite model (no TFL3 identifier) nor an ONNX model (no IR version or no graph)");
        }

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inspection = new ModelInspection
        {
            Format = "onnx", FormatVersion = model.IrVersion, Producer = string.Join(' ', new[] { model.ProducerName, model.ProducerVersion }.Where(s => s.Length > 0)),
            Opsets = new SortedDictionary<string, long>(model.OpsetImport.ToDictionary(o => o.Domain.Length == 0 ? "ai.onnx" : o.Domain, o => o.Version), StringComparer.Ordinal),
            Inputs = [.. graph.Input.Where(i => !initializers.Contains(i.Name)).Select(Summary)],
            Outputs = [.. graph.Output.Select(Summary)],
        };
        var graphs = 0;
        void Walk(GraphProto g)
        {
            graphs++;
            foreach (var node in g.Node)
            {
                var name = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
                inspection.Operators[name] = inspection.Operators.GetValueOrDefault(name) + 1;
                foreach (var attribute in node.Attribute)
                {
                    if (attribute.G is { } sub)
                    {
                        Walk(sub);
                    }

                    foreach (var branch in attribute.Graphs)
                    {
                        Walk(branch);
                    }
                }
            }

            foreach (var initializer in g.Initializer)
            {
                var type = TypeName(initializer.DataType);
                inspection.TensorTypes[type] = inspection.TensorTypes.GetValueOrDefault(type) + 1;
            }
        }

        Walk(graph);
        inspection.Subgraphs = graphs;
        var markers = inspection.Operators.Keys.Where(QuantizedOnnxOperators.Contains).ToArray();
        inspection.Quantized = markers.Length > 0;
        inspection.QuantizedBecause = markers.Length > 0 ? $"it holds {string.Join(", ", markers)}" : "no quantization operator";
        return inspection;
    }

    private static TensorSummary Summary(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        return new TensorSummary
        {
            Name = value.Name, Type = tensor is null ? "not a tensor" : TypeName(tensor.ElemType),
            Shape = [.. (tensor?.Shape?.Dim ?? []).Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1)],
        };
    }

    private static string TypeName(TfliteTensorType type) => type.ToString().ToUpperInvariant();

    private static string TypeName(int onnxType) => onnxType >= 0 && onnxType < OnnxTypes.Length ? OnnxTypes[onnxType] : $"TYPE_{onnxType}";
}
