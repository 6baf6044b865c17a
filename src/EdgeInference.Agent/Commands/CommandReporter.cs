using System.Collections.Concurrent;
using System.Text.Json;
using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.Updates;
using EdgeInference.Contracts;

namespace EdgeInference.Agent.Commands;

/// <summary>
/// Replies to commands on <c>edge/{deviceId}/replies/{commandId}</c>, through the durable outbox (so a reply made
/// offline arrives later), and keeps each model's latest update for the status message (local installs' too).
/// </summary>
public sealed class CommandReporter
{
    private readonly OutboxStore? _outbox;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, UpdateStatus> _updates = new(StringComparer.Ordinal);
    private long _changes;

    /// <param name="deviceId">The device's id, in every reply.</param>
    /// <param name="outbox">The fleet link's outbox; null on a device with no fleet (local installs only).</param>
    /// <param name="time">The clock that dates replies.</param>
    public CommandReporter(string deviceId, OutboxStore? outbox, TimeProvider time)
    {
        DeviceId = deviceId;
        _outbox = outbox;
        _time = time;
    }

    public string DeviceId { get; }

    /// <summary>Every reply, as it goes into the outbox (the local package inbox follows its own commands' replies).</summary>
    public event Action<ReplyMessage>? Replied;

    /// <summary>Counts changes to <see cref="Updates"/>, so the status is republished when one changes.</summary>
    public long Changes => Interlocked.Read(ref _changes);

    public IReadOnlyList<UpdateStatus> Updates => _updates.Values.OrderBy(u => u.Model, StringComparer.Ordinal).ToArray();

    /// <summary>Puts the reply in the outbox and returns once it is durable.</summary>
    public async Task ReplyAsync(ReplyMessage reply, CancellationToken cancellationToken)
    {
        var message = Prepare(reply);
        if (_outbox is not null && !IsLocal(reply))
        {
            await _outbox.AppendAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Queues the reply without waiting (for replies made before the outbox's writer runs).</summary>
    public void Reply(ReplyMessage reply)
    {
        var message = Prepare(reply);
        if (_outbox is not null && !IsLocal(reply))
        {
            _outbox.TryAppend(message);
        }
    }

    /// <summary>
    /// A reply to a package installed from local media stays on the device: the fleet sent no such command (it sees
    /// the install in the status message's updates and served versions instead).
    /// </summary>
    private static bool IsLocal(ReplyMessage reply) => reply.CommandId.StartsWith(LocalPackageInbox.CommandPrefix, StringComparison.Ordinal);

    private OutboxMessage Prepare(ReplyMessage reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        reply.DeviceId = DeviceId;
        reply.Timestamp = _time.GetUtcNow();
        if (reply.Command is CommandNames.Deploy or CommandNames.Rollback && reply.Model is { } model && reply.Version is { } version)
        {
            // A rollback that succeeded shows as the rolled-back version's state.
            var state = reply.Command == CommandNames.Rollback && reply.State == ReplyState.Succeeded ? ReplyState.RolledBack : reply.State;
            _updates[model] = new UpdateStatus
            {
                Model = model,
                CommandId = reply.CommandId,
                Version = version,
                State = state,
                Step = reply.Step,
                Reason = reply.Reason,
                Message = reply.Message,
                UpdatedAt = reply.Timestamp,
            };
            Interlocked.Increment(ref _changes);
        }

        var message = new OutboxMessage { Topic = $"replies/{reply.CommandId}", Payload = JsonSerializer.SerializeToUtf8Bytes(reply, ContractJsonContext.Default.ReplyMessage) };
        Replied?.Invoke(reply);
        return message;
    }
}
