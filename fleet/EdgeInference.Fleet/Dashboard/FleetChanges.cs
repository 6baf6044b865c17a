using System.Threading.Channels;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// Tells live views (the dashboard's Server-Sent Events) what changed, after it is saved. Each subscriber has
/// a bounded queue; a slow one loses the oldest notices, never slows the registry or the rollout engine, and
/// catches up by reading the state again.
/// </summary>
public sealed class FleetChanges
{
    private const int Backlog = 256;
    private readonly Lock _lock = new();
    private readonly List<Channel<FleetChange>> _subscribers = [];

    /// <summary>Notices from now on, until <paramref name="cancellationToken"/> ends the subscription.</summary>
    public ChannelReader<FleetChange> Subscribe(CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<FleetChange>(new BoundedChannelOptions(Backlog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }

            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    public void Publish(string kind, string id)
    {
        var change = new FleetChange(kind, id);
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(change);
            }
        }
    }
}
