using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Shadow;

/// <summary>A copy of one served request: its inputs and the outputs the serving version answered with.</summary>
public sealed class ShadowSample : IDisposable
{
    public ShadowSample(TensorBuffer[] inputs, TensorBuffer[] served)
    {
        Inputs = inputs;
        Served = served;
    }

    public TensorBuffer[] Inputs { get; }

    public TensorBuffer[] Served { get; }

    public void Dispose()
    {
        foreach (var buffer in Inputs)
        {
            buffer.Dispose();
        }

        foreach (var buffer in Served)
        {
            buffer.Dispose();
        }
    }
}
