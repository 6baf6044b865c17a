using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Capture;

/// <summary>One capture-and-infer: capture the source's inputs, run the model, and record it like any request (prediction log, drift, output rules).</summary>
public sealed class CaptureRunner
{
    private readonly ModelRepository _models;
    private readonly PinnedBufferPool _pool;
    private readonly PredictionRecorder _recorder;
    private readonly TimeProvider _time;

    public CaptureRunner(ModelRepository models, PinnedBufferPool pool, PredictionRecorder recorder, TimeProvider time)
    {
        _models = models;
        _pool = pool;
        _recorder = recorder;
        _time = time;
    }

    /// <summary>Runs <paramref name="model"/> on what <paramref name="source"/> captures, recorded as <paramref name="requestId"/> over <paramref name="protocol"/>.</summary>
    public async Task RunAsync(ICaptureSource source, string model, string? version, string requestId, string protocol, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var acquired = _models.Acquire(model, version);
        try
        {
            var started = _time.GetTimestamp();
            using var request = await source.CaptureAsync(acquired, _pool, cancellationToken).ConfigureAwait(false);
            request.Id = requestId;
            using var response = await acquired.InferAsync(request, cancellationToken).ConfigureAwait(false);
            _recorder.Record(request, response, protocol, started);
        }
        finally
        {
            acquired.Release();
        }
    }
}
