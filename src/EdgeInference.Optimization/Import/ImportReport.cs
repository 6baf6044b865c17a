namespace EdgeInference.Optimization.Import;

/// <summary>What <c>edgefleet models import</c> did (<c>report.json</c>): the source, the ONNX it wrote, and how each operator was converted.</summary>
public sealed class ImportReport
{
    public string Source { get; set; } = "";

    public string SourceSha256 { get; set; } = "";

    public string Output { get; set; } = "";

    public string OutputSha256 { get; set; } = "";

    public long Opset { get; set; }

    /// <summary>TFLite operators by name, with how many were converted.</summary>
    public SortedDictionary<string, int> Converted { get; set; } = new(StringComparer.Ordinal);

    /// <summary>ONNX nodes written, by operator.</summary>
    public SortedDictionary<string, int> Nodes { get; set; } = new(StringComparer.Ordinal);

    public int Initializers { get; set; }
}
