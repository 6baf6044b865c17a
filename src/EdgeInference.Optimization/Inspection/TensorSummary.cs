namespace EdgeInference.Optimization.Inspection;

/// <summary>A model input or output: its name, element type (in the format's own names), shape (-1 where dynamic) and quantization.</summary>
public sealed class TensorSummary
{
    public string Name { get; set; } = "";

    public string Type { get; set; } = "";

    public List<long> Shape { get; set; } = [];

    /// <summary>TFLite: <c>scale × (q − zero_point)</c> as the file gives it (one pair, or one per channel); null when not quantized.</summary>
    public List<float>? Scale { get; set; }

    public List<long>? ZeroPoint { get; set; }
}
