using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// Listens on the change bus and hands every replica's changes to this one's live views; it listens again after a
/// failure, and then tells the views that anything may have changed (<see cref="Anything"/>), since notices sent
/// meanwhile are gone.
/// </summary>
public sealed class ChangeBusListener : BackgroundService
{
    /// <summary>A notice that anything may have changed: views read everything again.</summary>
    public static readonly FleetChange Anything = new("fleet", "*");

    private readonly FleetChanges _changes;
    private readonly IChangeBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<ChangeBusListener> _logger;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChangeBusListener(FleetChanges changes, IChangeBus bus, TimeProvider time, ILogger<ChangeBusListener> logger)
    {
        _changes = changes;
        _bus = bus;
        _time = time;
        _logger = logger;
    }

    /// <summary>Completes once this replica first listens.</summary>
    public Task WaitListeningAsync(CancellationToken cancellationToken) => _listening.Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _bus.ListenAsync(_changes.Deliver, () =>
                {
                    delay = TimeSpan.FromMilliseconds(250);
                    _changes.Deliver(Anything);
                    _listening.TrySetResult();
                }, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary: listen again.
                FleetLog.ChangeBusListenFailed(_logger, delay.TotalSeconds, ex.Message);
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
