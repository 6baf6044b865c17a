using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Inference;

/// <summary>The outputs of one request, by the model's output order (null where not requested).</summary>
public sealed class InferenceResponse : IDisposable
{
    public InferenceResponse(ModelVersion model, string? id, TensorBuffer?[] outputs, bool fromCache)
    {
        Model = model;
        Id = id;
        Outputs = outputs;
        FromCache = fromCache;
    }

    public ModelVersion Model { get; }

    public string? Id { get; }

    public TensorBuffer?[] Outputs { get; }

    public bool FromCache { get; }

    public void Dispose()
    {
        for (var i = 0; i < Outputs.Length; i++)
        {
            Outputs[i]?.Dispose();
            Outputs[i] = null;
        }
    }
}
