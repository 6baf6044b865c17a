using System.Text.Json;
using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.Settings;
using EdgeInference.Agent.Updates;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Drift;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Drift;

/// <summary>Every <see cref="DriftOptions.Interval"/>, closes the drift windows and puts them into the outbox (with a link to the fleet).</summary>
public sealed class DriftService : BackgroundService
{
    private readonly DriftMonitor _monitor;
    private readonly OutboxStore? _outbox;
    private readonly InstalledPackages? _installed;
    private readonly DeviceSettings? _settings;
    private readonly string _deviceId;
    private readonly TimeProvider _time;
    private readonly ILogger<DriftService> _logger;

    public DriftService(
        DriftMonitor monitor, string deviceId, TimeProvider time, ILogger<DriftService> logger, OutboxStore? outbox = null, InstalledPackages? installed = null, DeviceSettings? settings = null)
    {
        _settings = settings;
        _installed = installed;
        _monitor = monitor;
        _deviceId = deviceId;
        _time = time;
        _logger = logger;
        _outbox = outbox;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_monitor.Options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval(), _time);
        void Retime(DesiredConfiguration applied) => timer.Period = Interval();
        if (_settings is not null)
        {
            _settings.Changed += Retime;
        }

        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    foreach (var window in _monitor.CloseWindows(_deviceId))
                    {
                        window.PackageVersion = _installed?.VersionOf(window.Model, window.Version);
                        _outbox?.TryAppend(new OutboxMessage { Topic = "drift", Payload = JsonSerializer.SerializeToUtf8Bytes(window, ContractJsonContext.Default.DriftMessage) });
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The loop boundary: one failed window must not stop drift statistics (or, unhandled, the agent).
                    DriftLog.WindowFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_settings is not null)
            {
                _settings.Changed -= Retime;
            }
        }
    }

    private TimeSpan Interval() => _settings?.DriftInterval(_monitor.Options.Interval) ?? _monitor.Options.Interval;
}
