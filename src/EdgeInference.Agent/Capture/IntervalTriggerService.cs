using EdgeInference.Agent.Sensors;
using EdgeInference.Runtime.Inference;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Capture;

/// <summary>
/// Runs each interval trigger's capture-and-infer on its own period (protocol <c>interval</c>). Periods that pass while
/// the previous run still captures collapse into one: a slow sensor never builds a backlog.
/// </summary>
public sealed class IntervalTriggerService : BackgroundService
{
    private readonly IntervalTriggerOptions[] _triggers;
    private readonly ICaptureSource[] _sources;
    private readonly CaptureRunner _runner;
    private readonly TimeProvider _time;
    private readonly ILogger<IntervalTriggerService> _logger;

    public IntervalTriggerService(CaptureOptions options, CaptureRunner runner, TimeProvider time, ILogger<IntervalTriggerService> logger, SensorHub? sensors = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _triggers = options.Intervals.ToArray();
        _sources = Array.ConvertAll(_triggers, t => CaptureSources.Create(t.Source, sensors));
        _runner = runner;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        CaptureLog.Scheduled(_logger, _triggers.Length);
        try
        {
            await Task.WhenAll(_triggers.Select((_, i) => RunAsync(i, stoppingToken))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(int index, CancellationToken cancellationToken)
    {
        var trigger = _triggers[index];
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(trigger.IntervalMilliseconds), _time);
        long runs = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var id = FormattableString.Invariant($"interval-{index}-{++runs}");
                await _runner.RunAsync(_sources[index], trigger.Model, trigger.Version, id, "interval", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FormatException or InferenceException or IOException)
            {
                CaptureLog.Failed(_logger, index, trigger.Source, trigger.Model, ex.Message);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The loop boundary: one failed capture must not stop the schedule.
                CaptureLog.Crashed(_logger, index, ex);
            }
        }
    }
}
