using EdgeInference.Storage;
using LiteDB;

namespace EdgeInference.Agent.Cloud;

/// <summary>
/// The durable outbox (<c>outbox.db</c>) of telemetry and drift messages. Prediction records need none:
/// the prediction log is already durable and numbered, so it is forwarded from its own checkpoint.
/// </summary>
public sealed class OutboxStore : DurableLog<OutboxMessage>
{
    public const string CollectionName = "outbox";

    /// <param name="options">Size bound and group commit.</param>
    /// <param name="open">Opens the database; production passes <see cref="DurableLiteDatabase.Open"/>.</param>
    /// <param name="time">The clock of the group commit.</param>
    public OutboxStore(DurableLogOptions options, Func<LiteDatabase> open, TimeProvider? time = null)
        : base(options, open, CollectionName, time)
    {
    }
}
