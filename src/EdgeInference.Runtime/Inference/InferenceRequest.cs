using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Inference;

/// <summary>
/// One prediction request, already parsed against a model version: inputs sit at their model input index.
/// Disposing returns the input buffers to their pool.
/// </summary>
public sealed class InferenceRequest : IDisposable
{
    public InferenceRequest(int inputCount)
    {
        Inputs = new TensorBuffer?[inputCount];
    }

    /// <summary>The client's request id, echoed back and logged.</summary>
    public string? Id { get; set; }

    /// <summary>Inputs by the model's input order.</summary>
    public TensorBuffer?[] Inputs { get; }

    /// <summary>Which outputs to compute, by the model's output order; null means all.</summary>
    public bool[]? RequestedOutputs { get; set; }

    public void Dispose()
    {
        for (var i = 0; i < Inputs.Length; i++)
        {
            Inputs[i]?.Dispose();
            Inputs[i] = null;
        }
    }
}
