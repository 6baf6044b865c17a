namespace EdgeInference.Optimization.Quantization;

/// <summary>A node of a quantizable type left in float, and why.</summary>
public sealed class SkippedNode
{
    public string Node { get; set; } = "";

    public string OpType { get; set; } = "";

    public string Reason { get; set; } = "";
}
