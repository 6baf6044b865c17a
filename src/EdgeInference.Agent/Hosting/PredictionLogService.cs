using EdgeInference.Agent.Diagnostics;
using EdgeInference.Agent.PredictionLog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Hosting;

/// <summary>Runs the prediction log's single writer; on stop it drains what is queued before the log closes.</summary>
internal sealed class PredictionLogService : BackgroundService
{
    private readonly PredictionLogStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<PredictionLogService> _logger;

    public PredictionLogService(PredictionLogStore store, TimeProvider time, ILogger<PredictionLogService> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await _store.RunAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                AgentLog.PredictionLogWriteFailed(_logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
