using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Inference;

namespace EdgeInference.Agent.Shadow;

/// <summary>
/// Sees every served prediction and, while a candidate version is shadowing, hands copies of that model's
/// requests to its <see cref="ShadowFeed"/>. Otherwise it costs one field read per request.
/// </summary>
public sealed class ShadowTap : IPredictionObserver
{
    private ShadowFeed? _feed;

    /// <summary>Starts copying <paramref name="model"/>'s requests (one model at a time: updates run one by one).</summary>
    public ShadowFeed Open(string model, int capacity)
    {
        var feed = new ShadowFeed(model, capacity);
        Volatile.Write(ref _feed, feed);
        return feed;
    }

    public void Close(ShadowFeed feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        Interlocked.CompareExchange(ref _feed, null, feed);
        feed.Complete();
    }

    public void Observe(InferenceRequest request, InferenceResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var feed = Volatile.Read(ref _feed);
        if (feed is not null && response.Model.ModelName == feed.Model)
        {
            feed.Offer(request, response);
        }
    }
}
