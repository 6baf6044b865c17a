using System.Threading.Channels;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Shadow;

/// <summary>
/// Copies of one model's live requests and their served answers, for a candidate version to replay while
/// shadowing. Bounded: when the candidate falls behind, new requests are skipped (and counted), never queued
/// without limit and never slowing the request that is being served.
/// </summary>
public sealed class ShadowFeed
{
    private readonly Channel<ShadowSample> _samples;
    private readonly int _capacity;
    private long _skipped;

    public ShadowFeed(string model, int capacity)
    {
        Model = model;
        _capacity = capacity;
        _samples = Channel.CreateBounded<ShadowSample>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public string Model { get; }

    /// <summary>Requests not copied because the candidate was still busy with earlier ones.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public ChannelReader<ShadowSample> Reader => _samples.Reader;

    /// <summary>Copies a served request and its answer, unless the feed is full.</summary>
    public void Offer(InferenceRequest request, InferenceResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (_samples.Reader.Count >= _capacity)
        {
            Interlocked.Increment(ref _skipped);
            return;
        }

        var sample = new ShadowSample(Copy(request.Inputs), Copy(response.Outputs));
        if (!_samples.Writer.TryWrite(sample))
        {
            sample.Dispose();
            Interlocked.Increment(ref _skipped);
        }
    }

    /// <summary>Stops taking copies and drops those not yet replayed.</summary>
    public void Complete()
    {
        _samples.Writer.TryComplete();
        while (_samples.Reader.TryRead(out var sample))
        {
            sample.Dispose();
        }
    }

    private static TensorBuffer[] Copy(TensorBuffer?[] tensors)
    {
        var copies = new List<TensorBuffer>(tensors.Length);
        foreach (var tensor in tensors)
        {
            if (tensor is not null)
            {
                copies.Add(TensorBuffer.Copy(tensor.Name, tensor.DataType, (long[])tensor.Shape.Clone(), tensor.Span));
            }
        }

        return [.. copies];
    }
}
