using EdgeInference.Agent.Diagnostics;
using EdgeInference.Runtime.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Hosting;

/// <summary>The reconcile loop: every poll interval, brings the loaded models in line with the repository on disk.</summary>
internal sealed class ModelRepositoryService : BackgroundService
{
    private readonly ModelRepository _models;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelRepositoryService> _logger;
    private readonly TimeSpan _interval;

    public ModelRepositoryService(ModelRepository models, TimeProvider time, IOptions<AgentOptions> options, ILogger<ModelRepositoryService> logger)
    {
        _models = models;
        _time = time;
        _logger = logger;
        _interval = options.Value.PollInterval;
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The first pass runs before the host reports started (and systemd READY=1), so "ready" means loaded.
        Pass(cancellationToken);
        AgentLog.RepositoryReady(_logger, _models.Models.Count, _models.Root);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            Pass(stoppingToken);
        }
    }

    private void Pass(CancellationToken cancellationToken)
    {
        try
        {
            _models.Reconcile(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            AgentLog.RepositoryPassFailed(_logger, _models.Root, ex);
        }
    }
}
