namespace EdgeInference.Packaging;

/// <summary>One golden vector: the inputs (Open Inference Protocol v2 JSON tensors) and the expected outputs.</summary>
public sealed class GoldenCase
{
    public string? Name { get; set; }

    public List<GoldenTensor> Inputs { get; set; } = [];

    public List<GoldenTensor> Expected { get; set; } = [];
}
