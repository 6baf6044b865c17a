using Microsoft.Extensions.Hosting;

namespace EdgeInference.Agent.Updates;

/// <summary>Runs <see cref="UpdateService.Recover"/> at start, before the model repository first loads.</summary>
internal sealed class UpdateRecoveryService : IHostedService
{
    private readonly UpdateService _updates;

    public UpdateRecoveryService(UpdateService updates)
    {
        _updates = updates;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _updates.Recover();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
