using System.Threading.Channels;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// Tells live views (the dashboard's Server-Sent Events) what changed, after it is saved. Each subscriber has
/// a bounded queue; a slow one loses the oldest notices, never slows the registry or the rollout engine, and
/// catches up by reading the state again. With a change bus (replicas on PostgreSQL), a change goes out through the
/// bus (<see cref="ChangeBusSender"/>) and comes back, from every replica, to <see cref="Deliver"/>
/// (<see cref="ChangeBusListener"/>).
/// </summary>
public sealed class FleetChanges
{
    private const int Backlog = 256;
    private readonly Lock _lock = new();
    private readonly List<Channel<FleetChange>> _subscribers = [];
    private readonly Channel<FleetChange>? _outgoing;

    public FleetChanges(IChangeBus? bus = null)
    {
        if (bus is not null)
        {
            _outgoing = Channel.CreateBounded<FleetChange>(new BoundedChannelOptions(8192) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        }
    }

    /// <summary>With a change bus: the changes made here, waiting to be sent.</summary>
    public ChannelReader<FleetChange>? Outgoing => _outgoing?.Reader;

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

    /// <summary>Something changed here: through the bus when there is one, else straight to this process's subscribers.</summary>
    public void Publish(string kind, string id)
    {
        var change = new FleetChange(kind, id);
        if (_outgoing is null || !_outgoing.Writer.TryWrite(change))
        {
            Deliver(change);
        }
    }

    /// <summary>Hands a change to this process's subscribers.</summary>
    public void Deliver(FleetChange change)
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(change);
            }
        }
    }
}
