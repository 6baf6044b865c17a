namespace EdgeInference.Packaging;

/// <summary>An input or output of the packaged model: its name, Open Inference Protocol datatype and shape (-1 for a dynamic dimension).</summary>
public sealed class PackageTensor
{
    public string Name { get; set; } = "";

    public string Datatype { get; set; } = "";

    public List<long> Shape { get; set; } = [];
}
