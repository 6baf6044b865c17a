using System.Text.Json;
using System.Threading.Channels;
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
/// Sends commands to devices and sees them through, as an outbox: a command is saved (<see cref="Create"/>), and this
/// service's loop — woken at once by a new command, else every second — claims the commands due for a send from the
/// store (<see cref="IFleetStore.ClaimDueCommands"/>: every replica runs this loop, and a claim is a lease, so one replica
/// sends each), publishes them at QoS 1, several at a time, and marks them sent. A command is due when its device is
/// online and nothing has been heard of it for <see cref="FleetOptions.CommandTimeout"/> (a resend has the same id: the
/// device answers a repeat with where it stands); past its expiry it is marked <c>timed_out</c>. A deploy gets a fresh
/// download token (<see cref="DownloadTokens"/>) at every send; tokens are never stored. Nobody waits on the broker
/// but this loop: a rollout pass or an API call only saves.
/// </summary>
public sealed class CommandService : BackgroundService
{
    /// <summary>How long a replica holds a command it is sending before another replica may send it.</summary>
    internal static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>Commands claimed at a time.</summary>
    private const int Batch = 32;

    /// <summary>Publishes waiting for the broker's acknowledgement at once.</summary>
    private const int InFlight = 16;

    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly IFleetStore _store;
    private readonly FleetMqttClient _mqtt;
    private readonly DownloadTokens _downloads;
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CommandService> _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public CommandService(IFleetStore store, FleetMqttClient mqtt, DownloadTokens downloads, FleetOptions options, TimeProvider time, ILogger<CommandService> logger)
    {
        _store = store;
        _mqtt = mqtt;
        _downloads = downloads;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Saves a new command for <paramref name="deviceId"/>; the loop sends it as soon as its device is online.</summary>
    public CommandRecord Create(string deviceId, CommandMessage message, string? rolloutId, TimeSpan? lifetime)
    {
        var command = New(deviceId, message, rolloutId, lifetime);
        _store.SaveCommand(command);
        Wake();
        return command;
    }

    /// <summary>A new command for <paramref name="deviceId"/>, not saved yet: the caller saves it with what refers to it, then calls <see cref="Wake"/>.</summary>
    public CommandRecord New(string deviceId, CommandMessage message, string? rolloutId, TimeSpan? lifetime)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = _time.GetUtcNow();
        message.Id = string.IsNullOrEmpty(message.Id) ? $"{message.Command}-{Guid.NewGuid():N}" : message.Id;
        message.IssuedAt = now;
        message.ExpiresAt ??= now + (lifetime ?? TimeSpan.FromHours(24));
        return new CommandRecord { Id = message.Id, DeviceId = deviceId, Message = message, RolloutId = rolloutId, CreatedAt = now };
    }

    /// <summary>Tells the dispatch loop that a saved command is waiting (persist, then signal).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DispatchAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The loop boundary: the store or the broker is away; the next round tries again.
                    FleetLog.DispatchFailed(_logger, ex.Message);
                }

                await WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: expire what is past its time, then claim and send what is due, a batch at a time.</summary>
    internal async Task DispatchAsync(CancellationToken cancellationToken)
    {
        foreach (var id in _store.ListExpiredCommands(_time.GetUtcNow()))
        {
            var now = _time.GetUtcNow();
            _store.UpdateCommand(id, c =>
            {
                if (!c.ExpiredAt(now))
                {
                    return false;
                }

                c.State = CommandState.TimedOut;
                return c.Final = true;
            });
        }

        while (_mqtt.IsConnected)
        {
            var now = _time.GetUtcNow();
            var due = _store.ClaimDueCommands(now, _options.CommandTimeout, Lease, Batch);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = InFlight, CancellationToken = cancellationToken },
                (command, token) => new ValueTask(SendAsync(command, now, token))).ConfigureAwait(false);
            if (due.Count < Batch)
            {
                return;
            }
        }
    }

    private async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tick = Task.Delay(Tick, _time, either.Token);
        var woken = _wake.Reader.WaitToReadAsync(either.Token).AsTask();
        await Task.WhenAny(tick, woken).ConfigureAwait(false);
        await either.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        _wake.Reader.TryRead(out _);
    }

    /// <summary>Publishes one claimed command and marks it sent; on failure gives its lease back, for the next round.</summary>
    private async Task SendAsync(CommandRecord command, DateTimeOffset now, CancellationToken cancellationToken)
    {
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
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One command's boundary: whatever stopped this send, the others go, and this one is due again at once.
            FleetLog.CommandNotSent(_logger, command.Id, command.DeviceId, ex.Message);
            _store.UpdateCommand(command.Id, c =>
            {
                c.LeaseUntil = null;
                return true;
            });
            return;
        }

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
}
