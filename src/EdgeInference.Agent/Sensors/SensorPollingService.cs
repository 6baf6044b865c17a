using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Sensors;

/// <summary>
/// Reads every sensor once before the host has started (so the first status already says which answer) and then every
/// <see cref="SensorOptions.PollSeconds"/>: health and readings for status, telemetry and metrics.
/// </summary>
public sealed class SensorPollingService : BackgroundService
{
    private readonly SensorHub _sensors;
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private readonly ILogger<SensorPollingService> _logger;

    public SensorPollingService(SensorHub sensors, SensorOptions options, TimeProvider time, ILogger<SensorPollingService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _sensors = sensors;
        _period = TimeSpan.FromSeconds(options.PollSeconds);
        _time = time;
        _logger = logger;
        SensorLog.Configured(logger, options.Devices.Count, string.Join(", ", sensors.Names), options.PollSeconds);
    }

    /// <summary>The first reading opens each chip: a few hundred milliseconds for some bindings (an MPU6050 resets itself).</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Poll(cancellationToken);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(_period, _time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Poll(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Poll(CancellationToken cancellationToken)
    {
        try
        {
            _sensors.Poll(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The loop boundary: a binding failing in a way nobody foresaw must not end the polling, nor stop the agent.
            SensorLog.PollCrashed(_logger, ex);
        }
    }
}
