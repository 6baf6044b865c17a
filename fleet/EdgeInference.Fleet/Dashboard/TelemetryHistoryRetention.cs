using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>Every hour, makes the coming days' history partitions and drops those past <c>Fleet:HistoryRetention</c>.</summary>
public sealed class TelemetryHistoryRetention : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromHours(1);
    private readonly PostgresTelemetryHistory _history;
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TelemetryHistoryRetention> _logger;

    public TelemetryHistoryRetention(PostgresTelemetryHistory history, FleetOptions options, TimeProvider time, ILogger<TelemetryHistoryRetention> logger)
    {
        _history = history;
        _options = options;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                foreach (var partition in _history.Maintain(_options.HistoryRetention))
                {
                    FleetLog.HistoryDropped(_logger, partition, _options.HistoryRetention.TotalDays);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary: the next hour tries again (partitions are made two days ahead).
                FleetLog.HistoryMaintenanceFailed(_logger, ex.Message);
            }
        }
    }
}
