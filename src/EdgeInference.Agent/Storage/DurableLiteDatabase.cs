using LiteDB;

namespace EdgeInference.Agent.Storage;

/// <summary>
/// Opens LiteDB over <see cref="DurableFileStream"/>s for its data file and its write-ahead log.
/// LiteDB 5 does not fsync its commits; callers make a batch durable with <see cref="Commit"/>.
/// </summary>
public static class DurableLiteDatabase
{
    public static LiteDatabase Open(string path)
    {
        var data = new DurableFileStream(path);
        try
        {
            var log = new DurableFileStream(LogPathOf(path));
            return new LiteDatabase(data, mapper: null, logStream: log);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public static string LogPathOf(string path) => Path.ChangeExtension(path, null) + "-log" + Path.GetExtension(path);

    /// <summary>
    /// Makes everything committed so far durable: the checkpoint waits for LiteDB's background log writer,
    /// copies the log into the data file and flushes both through the durable streams.
    /// </summary>
    public static void Commit(LiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        database.Checkpoint();
    }
}
