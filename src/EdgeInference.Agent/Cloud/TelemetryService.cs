using System.Text.Json;
using EdgeInference.Agent.Settings;
using EdgeInference.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Cloud;

/// <summary>Every <see cref="MqttOptions.TelemetryInterval"/> (or the interval the fleet set), puts one telemetry window into the outbox (online or not).</summary>
public sealed class TelemetryService : BackgroundService
{
    private readonly TelemetryCollector _collector;
    private readonly OutboxStore _outbox;
    private readonly MqttOptions _options;
    private readonly DeviceSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<TelemetryService> _logger;

    public TelemetryService(TelemetryCollector collector, OutboxStore outbox, MqttOptions options, DeviceSettings settings, TimeProvider time, ILogger<TelemetryService> logger)
    {
        _settings = settings;
        _collector = collector;
        _outbox = outbox;
        _options = options;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_settings.TelemetryInterval(_options.TelemetryInterval), _time);
        void Retime(DesiredConfiguration applied) => timer.Period = _settings.TelemetryInterval(_options.TelemetryInterval);
        _settings.Changed += Retime;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var payload = JsonSerializer.SerializeToUtf8Bytes(_collector.Collect(), ContractJsonContext.Default.TelemetryMessage);
                    _outbox.TryAppend(new OutboxMessage { Topic = "telemetry", Payload = payload });
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The loop boundary: one failed window must not stop telemetry (or, unhandled, the agent).
                    CloudLog.TelemetryFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _settings.Changed -= Retime;
        }
    }
}
