using EdgeInference.Agent.Diagnostics;
using EdgeInference.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Hosting;

/// <summary>Runs a durable log's single writer (the prediction log, the outbox); on stop it drains what is queued before the log closes.</summary>
internal sealed class DurableLogService<TRecord> : BackgroundService
    where TRecord : IDurableRecord<TRecord>
{
    private readonly DurableLog<TRecord> _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _name;

    /// <param name="log">The log whose writer this runs.</param>
    /// <param name="name">The log's name in messages, e.g. <c>prediction log</c>.</param>
    /// <param name="time">The clock of the retry delay.</param>
    /// <param name="logger">Where failures are reported.</param>
    public DurableLogService(DurableLog<TRecord> log, string name, TimeProvider time, ILogger logger)
    {
        _log = log;
        _name = name;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await _log.RunAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                AgentLog.DurableLogWriteFailed(_logger, _name, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
