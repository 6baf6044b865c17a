namespace EdgeInference.Optimization.Inspection;

/// <summary>What <c>edgefleet models inspect</c> reports about a model file: format, versions, operators, types, quantization, subgraphs.</summary>
public sealed class ModelInspection
{
    public string File { get; set; } = "";

    /// <summary><c>onnx</c> or <c>tflite</c>.</summary>
    public string Format { get; set; } = "";

    public long Bytes { get; set; }

    public string Sha256 { get; set; } = "";

    /// <summary>ONNX: the producer and its version; TFLite: the model's description.</summary>
    public string? Producer { get; set; }

    /// <summary>ONNX: the IR version; TFLite: the schema version.</summary>
    public long FormatVersion { get; set; }

    /// <summary>ONNX: the operator sets imported, by domain (<c>ai.onnx</c> for the default one).</summary>
    public SortedDictionary<string, long>? Opsets { get; set; }

    /// <summary>How many graphs: the main one and those inside operators (<c>If</c> branches, loops).</summary>
    public int Subgraphs { get; set; }

    public List<TensorSummary> Inputs { get; set; } = [];

    public List<TensorSummary> Outputs { get; set; } = [];

    /// <summary>Operators by name across every subgraph, with how many times each occurs (ONNX names carry their domain when not the default).</summary>
    public SortedDictionary<string, int> Operators { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Tensors (TFLite) or initializers (ONNX) by element type.</summary>
    public SortedDictionary<string, int> TensorTypes { get; set; } = new(StringComparer.Ordinal);

    public bool Quantized { get; set; }

    /// <summary>Why it counts as quantized (or not): which tensors or operators say so.</summary>
    public string QuantizedBecause { get; set; } = "";
}
