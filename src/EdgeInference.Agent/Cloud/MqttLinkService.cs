using Microsoft.Extensions.Hosting;

namespace EdgeInference.Agent.Cloud;

/// <summary>Keeps the <see cref="MqttLink"/> connected while the agent runs; on stop it says offline.</summary>
public sealed class MqttLinkService : BackgroundService
{
    private readonly MqttLink _link;

    public MqttLinkService(MqttLink link)
    {
        _link = link;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _link.RunAsync(stoppingToken);
}
