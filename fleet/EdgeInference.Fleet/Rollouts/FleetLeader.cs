using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// Whether this replica leads, so that exactly one runs the rollout planner: every second it checks its lease still
/// holds, or tries to take it when it has none. With one process (LiteDB) it always leads.
/// </summary>
public sealed class FleetLeader : BackgroundService
{
    private readonly IFleetStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<FleetLeader> _logger;
    private ILeadershipLease? _lease;

    public FleetLeader(IFleetStore store, TimeProvider time, ILogger<FleetLeader> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _lease = store.TryLead();
        if (_lease is not null)
        {
            FleetLog.Leading(_logger);
        }
    }

    public bool IsLeader => Volatile.Read(ref _lease) is not null;

    public override void Dispose()
    {
        Interlocked.Exchange(ref _lease, null)?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (_lease is { } lease && !lease.StillHeld())
                    {
                        Interlocked.Exchange(ref _lease, null)?.Dispose();
                        FleetLog.LeadershipLost(_logger);
                    }

                    if (_lease is null && _store.TryLead() is { } acquired)
                    {
                        Volatile.Write(ref _lease, acquired);
                        FleetLog.Leading(_logger);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The loop boundary: whatever the store threw, this replica does not lead until it holds the lock again.
                    Interlocked.Exchange(ref _lease, null)?.Dispose();
                    FleetLog.LeadershipCheckFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
