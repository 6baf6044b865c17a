using System.Text.Json;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Dashboard;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Store;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Registry;

/// <summary>
/// The device registry: takes what devices publish (status, telemetry, drift, replies) into the store.
/// A message that is too big, cannot be read, breaks the contract's bounds (<see cref="DevicePayloads"/>) or names
/// another device than its topic is dropped, logged and counted; nothing a device sends can throw past
/// <see cref="Handle"/>, so every message is acknowledged and none is redelivered forever.
/// </summary>
public sealed class DeviceRegistry
{
    private const int RepliesKept = 50;
    private readonly IFleetStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<DeviceRegistry> _logger;
    private readonly FleetChanges? _changes;
    private readonly ITelemetryHistory? _history;

    public DeviceRegistry(IFleetStore store, TimeProvider time, ILogger<DeviceRegistry> logger, FleetChanges? changes = null, ITelemetryHistory? history = null)
    {
        _changes = changes;
        _history = history;
        _store = store;
        _time = time;
        _logger = logger;
    }

    private long _dropped;

    /// <summary>Messages dropped as too big, unreadable, out of bounds or misaddressed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Changes one device atomically in the store (creating it when new), whichever replica is writing it too.</summary>
    public DeviceRecord Update(string id, Action<DeviceRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var device = _store.UpdateDevice(id, change);
        _changes?.Publish("device", id);
        return device;
    }

    /// <summary>
    /// Takes one message from <c>edge/{id}/...</c>: true once it is stored, or dropped for good (it breaks the contract;
    /// counted); false when the store failed (the database is away), so a caller that can have it delivered again should.
    /// </summary>
    public bool Handle(string topic, ReadOnlySpan<byte> payload)
    {
        var levels = topic.Split('/');
        if (levels.Length < 3 || levels[0] != MqttTopics.Root || !MqttTopics.IsValidDeviceId(levels[1]))
        {
            Drop(topic, "not an edge/{device}/… topic");
            return true;
        }

        if (payload.Length > DevicePayloads.MaxBytes)
        {
            Drop(topic, $"{payload.Length} bytes, over the {DevicePayloads.MaxBytes} a device message may have");
            return true;
        }

        var device = levels[1];
        try
        {
            switch (levels[2])
            {
                case "status" when levels.Length == 3:
                    OnStatus(device, JsonSerializer.Deserialize(payload, ContractJsonContext.Default.StatusMessage));
                    break;
                case "telemetry" when levels.Length == 3:
                    OnTelemetry(device, JsonSerializer.Deserialize(payload, ContractJsonContext.Default.TelemetryMessage));
                    break;
                case "drift" when levels.Length == 3:
                    OnDrift(device, JsonSerializer.Deserialize(payload, ContractJsonContext.Default.DriftMessage));
                    break;
                case "replies" when levels.Length == 4:
                    OnReply(device, levels[3], JsonSerializer.Deserialize(payload, ContractJsonContext.Default.ReplyMessage));
                    break;
            }
        }
        catch (JsonException ex)
        {
            Drop(topic, "not valid JSON for its channel: " + ex.Message);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or IOException)
        {
            // The store, not the message: worth delivering again once it is back.
            FleetLog.MessageNotStored(_logger, topic, ex.Message);
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The boundary of device input: whatever a message does, the next one is still taken.
            Drop(topic, $"it could not be handled: {ex.GetType().Name}: {ex.Message}");
        }

        return true;
    }

    private void OnStatus(string device, StatusMessage? status)
    {
        if (!Addressed(device, status?.DeviceId, "status") || status is null || Invalid(device, "status", DevicePayloads.Problem(status)))
        {
            return;
        }

        Update(device, d =>
        {
            d.Online = status.State == ConnectionState.Online;
            d.LastSeen = _time.GetUtcNow();
            d.AgentVersion = status.AgentVersion ?? d.AgentVersion;
            d.TrustVersion = status.TrustVersion ?? d.TrustVersion;
            if (status.Models is { } models)
            {
                d.Models = models;
            }

            if (status.Updates is { } updates)
            {
                d.Updates = updates;
            }

            if (d.Online)
            {
                d.ReportedConfiguration = status.Configuration;
            }
        });
    }

    private void OnTelemetry(string device, TelemetryMessage? telemetry)
    {
        if (!Addressed(device, telemetry?.DeviceId, "telemetry") || telemetry is null || Invalid(device, "telemetry", DevicePayloads.Problem(telemetry)))
        {
            return;
        }

        _history?.Add(telemetry);
        Update(device, d =>
        {
            var now = _time.GetUtcNow();
            d.LastSeen = now;
            d.LatestTelemetry = telemetry;
            foreach (var model in telemetry.Models)
            {
                var key = DeviceRecord.StatsKey(model.Model, model.PackageVersion);
                if (!d.Stats.TryGetValue(key, out var stats))
                {
                    d.Stats[key] = stats = new VersionStats { FirstSeen = now };
                }

                stats.Requests += model.Requests;
                stats.Errors += model.Errors;
                stats.Windows++;
                stats.LastSeen = now;
                if (model.LatencyMs?.P95 is { } p95)
                {
                    stats.P95Ms = p95;
                }
            }

            Bound(d.Stats, s => s.LastSeen);
        });
    }

    private void OnDrift(string device, DriftMessage? drift)
    {
        if (!Addressed(device, drift?.DeviceId, "drift") || drift is null || Invalid(device, "drift", DevicePayloads.Problem(drift)))
        {
            return;
        }

        _history?.Add(drift);
        Update(device, d =>
        {
            d.LastSeen = _time.GetUtcNow();
            d.Drift[DeviceRecord.StatsKey(drift.Model, drift.PackageVersion)] = new DriftSummary
            {
                Drifted = drift.Drift,
                Features = drift.Features.Where(f => f.Drift).Select(f => f.Name).ToList(),
                MaxPsi = drift.Features.Count == 0 ? null : drift.Features.Max(f => f.Psi),
                Requests = drift.Requests,
                At = drift.WindowEnd,
            };
            Bound(d.Drift, s => s.At);
        });
    }

    private void OnReply(string device, string commandId, ReplyMessage? reply)
    {
        if (!Addressed(device, reply?.DeviceId, "reply") || reply is null || Invalid(device, "reply", DevicePayloads.Problem(reply)))
        {
            return;
        }

        var now = _time.GetUtcNow();
        var known = false;
        var applied = reply.CommandId == commandId && _store.UpdateCommand(commandId, command =>
        {
            if (command.DeviceId != device)
            {
                return false;
            }

            known = true;
            return Apply(command, reply, now);
        });
        if (!applied && !known)
        {
            Drop($"edge/{device}/replies/{commandId}", "no such command was sent to this device");
        }
    }

    /// <summary>
    /// Adds a reply to its command, in the order the device sent them (replicas and redeliveries hand them over in any
    /// order): the command's state is its latest reply's, so a progress report that comes late never undoes the outcome
    /// that came before it. The same reply delivered twice is kept once. False when there is nothing to write.
    /// </summary>
    internal static bool Apply(CommandRecord command, ReplyMessage reply, DateTimeOffset now)
    {
        if (command.Replies.Any(r => r.Timestamp == reply.Timestamp && r.State == reply.State && r.Step == reply.Step && r.Final == reply.Final))
        {
            return false;
        }

        var at = command.Replies.FindIndex(r => r.Timestamp > reply.Timestamp);
        command.Replies.Insert(at < 0 ? command.Replies.Count : at, reply);
        if (command.Replies.Count > RepliesKept)
        {
            command.Replies.RemoveAt(0);
        }

        var latest = command.Replies[^1];
        command.State = latest.State.ToCommandState();
        command.Final = latest.Final;
        command.LastActivity = now;
        return true;
    }

    private bool Addressed(string topicDevice, string? payloadDevice, string what)
    {
        if (payloadDevice == topicDevice)
        {
            return true;
        }

        Drop($"edge/{topicDevice}/…", $"the {what} names device '{payloadDevice}', not the topic's");
        return false;
    }

    /// <summary>Keeps the <see cref="DevicePayloads.MaxVersionsPerDevice"/> most recently seen entries: a device cannot grow its record without bound.</summary>
    private static void Bound<T>(Dictionary<string, T> entries, Func<T, DateTimeOffset> seen)
    {
        foreach (var stale in entries.OrderByDescending(e => seen(e.Value)).Skip(DevicePayloads.MaxVersionsPerDevice).Select(e => e.Key).ToList())
        {
            entries.Remove(stale);
        }
    }

    private bool Invalid(string device, string what, string? problem)
    {
        if (problem is not null)
        {
            Drop($"edge/{device}/…", $"the {what} breaks the contract: {problem}");
        }

        return problem is not null;
    }

    private void Drop(string topic, string problem)
    {
        Interlocked.Increment(ref _dropped);
        FleetLog.MessageDropped(_logger, topic, problem);
    }
}
