using EdgeInference.Storage;
using LiteDB;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>The durable prediction log (<c>predictions.db</c> in the data directory); the MQTT publisher forwards it from its checkpoint.</summary>
public sealed class PredictionLogStore : DurableLog<PredictionRecord>
{
    public const string CollectionName = "predictions";

    /// <param name="options">Size bound and group commit.</param>
    /// <param name="open">Opens the database; production passes <see cref="DurableLiteDatabase.Open"/>.</param>
    /// <param name="time">The clock of the group commit.</param>
    public PredictionLogStore(PredictionLogOptions options, Func<LiteDatabase> open, TimeProvider? time = null)
        : base(options, open, CollectionName, time)
    {
    }
}
