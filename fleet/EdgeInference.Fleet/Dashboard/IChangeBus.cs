namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// Carries live-view notices (<see cref="FleetChange"/>: a kind and an id, never the state itself) between the
/// replicas of one fleet, so a dashboard on any replica hears of every change, whichever replica made it.
/// </summary>
public interface IChangeBus
{
    /// <summary>Sends the changes to every replica, this one included; throws when it cannot.</summary>
    Task SendAsync(IReadOnlyCollection<FleetChange> changes, CancellationToken cancellationToken);

    /// <summary>
    /// Hands every change any replica sends to <paramref name="deliver"/>, from when it is listening until
    /// <paramref name="cancellationToken"/> ends it; <paramref name="listening"/> is called once it listens. Throws
    /// when the connection fails.
    /// </summary>
    Task ListenAsync(Action<FleetChange> deliver, Action listening, CancellationToken cancellationToken);
}
