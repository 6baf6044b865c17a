namespace EdgeInference.Packaging;

/// <summary>A tensor of a golden vector, as in an Open Inference Protocol v2 JSON request: flat data in row-major order.</summary>
public sealed class GoldenTensor
{
    public string Name { get; set; } = "";

    public string Datatype { get; set; } = "FP32";

    public List<long> Shape { get; set; } = [];

    public List<double> Data { get; set; } = [];
}
