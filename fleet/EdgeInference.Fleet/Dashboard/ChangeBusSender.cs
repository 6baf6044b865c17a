using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// Sends the changes made on this replica over the change bus: after the first, it waits a moment
/// (<see cref="BatchWindow"/>) and sends what has gathered, each change once, so a burst of telemetry is a few
/// notifications rather than one per message. When the bus fails, this replica's own dashboards still hear of them.
/// </summary>
public sealed class ChangeBusSender : BackgroundService
{
    public static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);
    private const int MaxBatch = 4096;
    private readonly FleetChanges _changes;
    private readonly IChangeBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<ChangeBusSender> _logger;

    public ChangeBusSender(FleetChanges changes, IChangeBus bus, TimeProvider time, ILogger<ChangeBusSender> logger)
    {
        _changes = changes;
        _bus = bus;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outgoing = _changes.Outgoing ?? throw new InvalidOperationException("FleetChanges was built without the change bus");
        while (await outgoing.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            await Task.Delay(BatchWindow, _time, stoppingToken).ConfigureAwait(false);
            var batch = new HashSet<FleetChange>();
            while (batch.Count < MaxBatch && outgoing.TryRead(out var change))
            {
                batch.Add(change);
            }

            try
            {
                await _bus.SendAsync(batch, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary: other replicas miss these notices (their dashboards redraw at the next one).
                FleetLog.ChangeBusSendFailed(_logger, batch.Count, ex.Message);
                foreach (var change in batch)
                {
                    _changes.Deliver(change);
                }
            }
        }
    }
}
