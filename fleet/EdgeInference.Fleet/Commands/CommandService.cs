using System.Text.Json;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Packages;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Commands;

/// <summary>
/// Sends commands to devices and sees them through: a command is saved before it is published, published
/// when its device is online, sent again (same id: the device answers a repeat with where it stands) when
/// nothing is heard for <see cref="FleetOptions.CommandTimeout"/>, and marked <c>timed_out</c> past its expiry.
/// A deploy gets a fresh download token (<see cref="DownloadTokens"/>) at every send; tokens are never stored.
/// </summary>
public sealed class CommandService : BackgroundService
{
    private readonly IFleetStore _store;
    private readonly FleetMqttClient _mqtt;
    private readonly DownloadTokens _downloads;
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CommandService> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>How long a replica holds a command it is sending before another replica may send it.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    public CommandService(IFleetStore store, FleetMqttClient mqtt, DownloadTokens downloads, FleetOptions options, TimeProvider time, ILogger<CommandService> logger)
    {
        _store = store;
        _mqtt = mqtt;
        _downloads = downloads;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Saves a new command for <paramref name="deviceId"/> and publishes it if the device is online.</summary>
    public async Task<CommandRecord> CreateAsync(string deviceId, CommandMessage message, string? rolloutId, TimeSpan? lifetime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = _time.GetUtcNow();
        message.Id = string.IsNullOrEmpty(message.Id) ? $"{message.Command}-{Guid.NewGuid():N}" : message.Id;
        message.IssuedAt = now;
        message.ExpiresAt ??= now + (lifetime ?? TimeSpan.FromHours(24));
        var command = new CommandRecord { Id = message.Id, DeviceId = deviceId, Message = message, RolloutId = rolloutId, CreatedAt = now };
        _store.SaveCommand(command);
        await SendDueAsync(command, cancellationToken).ConfigureAwait(false);
        return _store.GetCommand(command.Id) ?? command;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (var command in _store.ListOpenCommands())
                {
                    await SendDueAsync(command, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendDueAsync(CommandRecord command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Read again under the gate: a reply may have arrived since the caller's copy.
            command = _store.GetCommand(command.Id) ?? command;
            var now = _time.GetUtcNow();
            if (command.Final)
            {
                return;
            }

            if (command.Message.ExpiresAt is { } expires && now >= expires)
            {
                _store.UpdateCommand(command.Id, c =>
                {
                    c.State = c.Final ? c.State : CommandState.TimedOut;
                    return c.Final = true;
                });
                return;
            }

            var silent = command.LastActivity is null || now - command.LastActivity >= _options.CommandTimeout;
            var online = _store.GetDevice(command.DeviceId)?.Online == true;
            if (!silent || !online || !_mqtt.IsConnected)
            {
                return;
            }

            // Claimed first, atomically: of replicas that see the same due command, one sends it.
            var claimed = _store.UpdateCommand(command.Id, c =>
            {
                if (c.Final || c.LeaseUntil > now || (c.LastActivity is { } last && now - last < _options.CommandTimeout))
                {
                    return false;
                }

                c.LeaseUntil = now + Lease;
                return true;
            });
            if (!claimed)
            {
                return;
            }

            try
            {
                if (command.Message.Deploy is { } deploy)
                {
                    // Minted into this send only (the record is a fresh copy from the store): a resend gets a fresh one.
                    var manifest = ManifestCodec.Parse(Convert.FromBase64String(deploy.Package.Manifest));
                    deploy.DownloadToken = _downloads.Issue(manifest.Name, manifest.Version, command.DeviceId);
                }

                var payload = JsonSerializer.SerializeToUtf8Bytes(command.Message, ContractJsonContext.Default.CommandMessage);
                await _mqtt.PublishAsync($"{MqttTopics.Root}/{command.DeviceId}/commands/{command.Message.Command}", payload, cancellationToken).ConfigureAwait(false);
                var sends = 0;
                _store.UpdateCommand(command.Id, c =>
                {
                    sends = ++c.Sends;
                    c.SentAt ??= now;
                    c.LeaseUntil = null;
                    if (c.LastActivity is null || c.LastActivity < now)
                    {
                        c.LastActivity = now;
                    }

                    if (c.State == CommandState.Pending)
                    {
                        c.State = CommandState.Sent;
                    }

                    return true;
                });
                FleetLog.CommandSent(_logger, command.Message.Command, command.Id, command.DeviceId, sends);
            }
            catch (Exception ex) when (ex is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                FleetLog.CommandNotSent(_logger, command.Id, command.DeviceId, ex.Message);
                _store.UpdateCommand(command.Id, c =>
                {
                    c.LeaseUntil = null;
                    return true;
                });
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }
}
