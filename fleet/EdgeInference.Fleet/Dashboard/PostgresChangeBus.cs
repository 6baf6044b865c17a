using System.Text;
using System.Text.Json;
using EdgeInference.Fleet.Api;
using EdgeInference.Fleet.Store;
using Npgsql;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// The change bus on PostgreSQL's <c>LISTEN</c>/<c>NOTIFY</c> (channel <c>edge_fleet_changes</c>): a notification
/// carries a JSON array of changes, kinds and ids only, kept under PostgreSQL's 8000-byte payload limit; each
/// replica listens on a connection of its own.
/// </summary>
public sealed class PostgresChangeBus : IChangeBus
{
    public const string Channel = "edge_fleet_changes";

    /// <summary>Below PostgreSQL's 8000-byte limit on a notification's payload.</summary>
    private const int MaxPayloadBytes = 7500;

    private readonly NpgsqlDataSource _source;

    /// <summary>Over the store's own connections (<see cref="PostgresFleetStore.DataSource"/>).</summary>
    public PostgresChangeBus(NpgsqlDataSource source)
    {
        _source = source;
    }

    public async Task SendAsync(IReadOnlyCollection<FleetChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var payloads = Payloads(changes);
        if (payloads.Count == 0)
        {
            return;
        }

        await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var payload in payloads)
        {
            await using var notify = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection) { Parameters = { new() { Value = Channel }, new() { Value = payload } } };
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task ListenAsync(Action<FleetChange> deliver, Action listening, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        ArgumentNullException.ThrowIfNull(listening);
        await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        connection.Notification += (_, args) =>
        {
            foreach (var change in Parse(args.Payload))
            {
                deliver(change);
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        listening();
        while (true)
        {
            await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The changes as JSON arrays, each under <see cref="MaxPayloadBytes"/>; a change too long for one alone is left out.</summary>
    public static IReadOnlyList<string> Payloads(IEnumerable<FleetChange> changes)
    {
        var payloads = new List<string>();
        var current = new StringBuilder();
        var bytes = 0;
        foreach (var change in changes)
        {
            var json = JsonSerializer.Serialize(change, FleetJsonContext.Default.FleetChange);
            var size = Encoding.UTF8.GetByteCount(json) + 1; // and its '[' or ','
            if (size + 1 > MaxPayloadBytes)
            {
                continue;
            }

            if (bytes + size + 1 > MaxPayloadBytes)
            {
                payloads.Add(current.Append(']').ToString());
                current.Clear();
                bytes = 0;
            }

            current.Append(bytes == 0 ? '[' : ',').Append(json);
            bytes += size;
        }

        if (bytes > 0)
        {
            payloads.Add(current.Append(']').ToString());
        }

        return payloads;
    }

    /// <summary>The changes a notification carries; nothing for one that is not ours (anyone may notify on the channel).</summary>
    public static IReadOnlyList<FleetChange> Parse(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, FleetJsonContext.Default.FleetChangeArray) is { } changes
                ? changes.Where(c => c is { Kind.Length: > 0, Id.Length: > 0 }).ToArray()
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
