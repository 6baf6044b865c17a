using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.Settings;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>
/// What follows every served request: the observers see it (drift sketches, GPIO output rules), and it becomes a
/// <see cref="PredictionRecord"/> (output summaries, sampled inputs) queued for the prediction log. Under
/// <see cref="PredictionDurability.BeforeReply"/> the protocols call <see cref="RecordDurablyAsync"/> before they answer.
/// </summary>
public sealed class PredictionRecorder
{
    private readonly PredictionLogStore? _store;
    private readonly PredictionLogOptions _options;
    private readonly TimeProvider _time;
    private readonly IPredictionObserver[] _observers;
    private long _sampleEvery;
    private long _served;

    public PredictionRecorder(IOptions<AgentOptions> options, TimeProvider time, IEnumerable<IPredictionObserver> observers, PredictionLogStore? store = null, DeviceSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(observers);
        _observers = observers.ToArray();
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.PredictionLog;
        _store = _options.Enabled ? store : null;
        _time = time;
        _sampleEvery = SampleEvery(settings?.InputSampleRate(_options.InputSampleRate) ?? _options.InputSampleRate);
        if (settings is not null)
        {
            settings.Changed += _ => Volatile.Write(ref _sampleEvery, SampleEvery(settings.InputSampleRate(_options.InputSampleRate)));
        }
    }

    /// <summary>
    /// Records a request once its HTTP response has completed, off the path the caller waits on, and then disposes the
    /// request and response, which it now owns. For protocols whose reply the framework writes after the handler
    /// returns (gRPC).
    /// </summary>
    public void RecordWhenCompleted(Microsoft.AspNetCore.Http.HttpResponse httpResponse, InferenceRequest request, InferenceResponse response, string protocol, long startedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(httpResponse);
        httpResponse.OnCompleted(static state =>
        {
            var (recorder, request, response, protocol, started) = ((PredictionRecorder, InferenceRequest, InferenceResponse, string, long))state;
            using (request)
            using (response)
            {
                recorder.Record(request, response, protocol, started);
            }

            return Task.CompletedTask;
        }, (this, request, response, protocol, startedTimestamp));
    }

    /// <summary>Whether requests are answered only once their record is durable.</summary>
    public bool BeforeReply => _store is not null && _options.Durability == PredictionDurability.BeforeReply;

    private static long SampleEvery(double rate) => rate <= 0 ? 0 : (long)Math.Round(1 / rate);

    /// <summary>Observes and queues the record without waiting (<see cref="PredictionDurability.AfterReply"/>, or GPIO triggers).</summary>
    public void Record(InferenceRequest request, InferenceResponse response, string protocol, long startedTimestamp)
    {
        if (Build(request, response, protocol, startedTimestamp) is { } record)
        {
            _store!.TryAppend(record);
        }
    }

    /// <summary>
    /// Observes the request and returns once its record is committed; throws <see cref="InferenceException"/>
    /// (unavailable) when the log refuses it, so no answer goes out unlogged.
    /// </summary>
    public async Task RecordDurablyAsync(InferenceRequest request, InferenceResponse response, string protocol, long startedTimestamp, CancellationToken cancellationToken)
    {
        if (Build(request, response, protocol, startedTimestamp) is { } record
            && await _store!.AppendAsync(record, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new InferenceException(InferenceErrorKind.Unavailable,
                "the prediction log refused this prediction (full under the RejectNew policy, or too large); with Durability BeforeReply nothing is answered unlogged");
        }
    }

    private PredictionRecord? Build(InferenceRequest request, InferenceResponse response, string protocol, long startedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        foreach (var observer in _observers)
        {
            observer.Observe(request, response);
        }

        if (_store is null)
        {
            return null;
        }

        var present = 0;
        foreach (var output in response.Outputs)
        {
            present += output is null ? 0 : 1;
        }

        var outputs = new PredictionOutputSummary[present];
        present = 0;
        foreach (var output in response.Outputs)
        {
            if (output is null)
            {
                continue;
            }

            var count = output.DataType == TensorDataType.Bytes ? 0 : (int)Math.Min(output.ElementCount, _options.OutputValues);
            var values = new double[count];
            for (var i = 0; i < count; i++)
            {
                values[i] = TensorValues.Get(output.Span, output.DataType, i);
            }

            outputs[present++] = new PredictionOutputSummary(output.Name, output.Shape, values);
        }

        var served = Interlocked.Increment(ref _served);
        List<PredictionInputSample>? inputs = null;
        var sampleEvery = Volatile.Read(ref _sampleEvery);
        if (sampleEvery > 0 && served % sampleEvery == 0 && InputBytes(request) <= _options.MaxSampledInputBytes)
        {
            inputs = [];
            foreach (var input in request.Inputs)
            {
                if (input is not null)
                {
                    inputs.Add(new PredictionInputSample(input.Name, input.DataType.ToProtocolName(), input.Shape, input.Span.ToArray()));
                }
            }
        }

        return new PredictionRecord
        {
            RequestId = request.Id,
            Model = response.Model.ModelName,
            Version = response.Model.Version,
            Timestamp = _time.GetUtcNow(),
            LatencyMicroseconds = (long)_time.GetElapsedTime(startedTimestamp).TotalMicroseconds,
            Protocol = protocol,
            Outputs = outputs,
            Inputs = inputs,
        };
    }

    private static long InputBytes(InferenceRequest request)
    {
        long bytes = 0;
        foreach (var input in request.Inputs)
        {
            bytes += input?.Length ?? 0;
        }

        return bytes;
    }
}
