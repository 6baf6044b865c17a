using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Gpio;

/// <summary>
/// Where a triggered inference gets its inputs: a sensor, a camera, a microphone. Sensor bindings
/// (Iot.Device.Bindings is not in the package registry) plug in here; <see cref="FileCaptureSource"/> is the built-in one.
/// </summary>
public interface ICaptureSource
{
    /// <summary>Captures one request's inputs for <paramref name="model"/>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    ValueTask<InferenceRequest> CaptureAsync(ModelVersion model, PinnedBufferPool pool, CancellationToken cancellationToken);
}
