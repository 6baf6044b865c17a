using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Capture;

/// <summary>
/// Where a triggered inference gets its inputs: a sensor window (<see cref="SensorCaptureSource"/>), or a file a camera or
/// microphone app writes (<see cref="FileCaptureSource"/>).
/// </summary>
public interface ICaptureSource
{
    /// <summary>Captures one request's inputs for <paramref name="model"/>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    ValueTask<InferenceRequest> CaptureAsync(ModelVersion model, PinnedBufferPool pool, CancellationToken cancellationToken);
}
