using Npgsql;

namespace EdgeInference.Fleet.Store;

/// <summary>
/// A session advisory lock held on a connection of its own (leadership, the rollout lock): when the connection goes,
/// so does the lock, so a replica that dies holds nothing.
/// </summary>
internal sealed class PostgresAdvisoryLock : ILeadershipLease
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private PostgresAdvisoryLock(NpgsqlConnection connection, long key)
    {
        _connection = connection;
        _key = key;
    }

    /// <summary>Takes the lock, waiting while another session holds it.</summary>
    public static PostgresAdvisoryLock Acquire(NpgsqlDataSource source, long key)
    {
        ArgumentNullException.ThrowIfNull(source);
        var connection = source.OpenConnection();
        try
        {
            using var command = new NpgsqlCommand($"SELECT pg_advisory_lock({key})", connection);
            command.ExecuteNonQuery();
            return new PostgresAdvisoryLock(connection, key);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Takes the lock if no other session holds it; null when another replica leads (or the database is away).</summary>
    public static PostgresAdvisoryLock? TryAcquire(NpgsqlDataSource source, long key)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = source.OpenConnection();
            using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({key})", connection);
            if (command.ExecuteScalar() is true)
            {
                return new PostgresAdvisoryLock(connection, key);
            }
        }
        catch (NpgsqlException)
        {
            // The database is away: nobody here leads until it is back.
        }

        connection?.Dispose();
        return null;
    }

    public bool StillHeld()
    {
        try
        {
            using var command = new NpgsqlCommand("SELECT 1", _connection);
            command.ExecuteScalar();
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        // Released outright: a pooled connection goes back to the pool still holding its session locks.
        try
        {
            using var command = new NpgsqlCommand($"SELECT pg_advisory_unlock({_key})", _connection);
            command.ExecuteScalar();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection is gone, and the lock with it.
        }

        _connection.Dispose();
    }
}
