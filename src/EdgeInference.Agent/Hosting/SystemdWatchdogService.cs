using System.Globalization;
using EdgeInference.Agent.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Hosting;

/// <summary>
/// Tells systemd (Type=notify) <c>READY=1</c> once the host has started, which is after the first pass
/// over the model repository, and pings its watchdog (<c>WATCHDOG=1</c>) at half the interval systemd
/// asks for in WATCHDOG_USEC, so a hung agent is restarted. Does nothing without NOTIFY_SOCKET.
/// </summary>
internal sealed class SystemdWatchdogService : BackgroundService
{
    private readonly ISystemdNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<SystemdWatchdogService> _logger;

    public SystemdWatchdogService(ISystemdNotifier notifier, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<SystemdWatchdogService> logger)
    {
        _notifier = notifier;
        _time = time;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_notifier.IsEnabled)
        {
            _lifetime.ApplicationStarted.Register(() => _notifier.Notify(ServiceState.Ready));
            _lifetime.ApplicationStopping.Register(() => _notifier.Notify(ServiceState.Stopping));
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        if (!_notifier.IsEnabled || !long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds <= 0)
        {
            return;
        }

        var interval = TimeSpan.FromTicks(microseconds * 10 / 2);
        AgentLog.WatchdogEnabled(_logger, interval);
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            _notifier.Notify(new ServiceState("WATCHDOG=1"));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
