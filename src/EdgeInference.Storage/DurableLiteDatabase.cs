using LiteDB;

namespace EdgeInference.Storage;

/// <summary>
/// LiteDB whose data file and write-ahead log are <see cref="JournaledStream"/>s over fsyncing
/// <see cref="DurableFileStream"/>s; it owns and closes them. LiteDB 5 neither fsyncs its commits nor
/// survives torn or reordered writes; over these streams each file only ever holds the state of one of
/// LiteDB's flushes. Callers make a batch durable with <see cref="Commit"/>.
/// </summary>
public sealed class DurableLiteDatabase : LiteDatabase
{
    private readonly Stream _data;
    private readonly Stream _log;

    private DurableLiteDatabase(Stream data, Stream log)
        : base(data, mapper: null, logStream: log)
    {
        _data = data;
        _log = log;
    }

    public static DurableLiteDatabase Open(string path)
    {
        Stream? data = null;
        Stream? log = null;
        try
        {
            data = Journaled(path);
            log = Journaled(LogPathOf(path));
            return new DurableLiteDatabase(data, log);
        }
        catch
        {
            log?.Dispose();
            data?.Dispose();
            throw;
        }
    }

    /// <summary>Opens LiteDB over any two journaled file pairs (the crash tests pass simulated disks).</summary>
    public static LiteDatabase Open(JournaledStream data, JournaledStream log) => new DurableLiteDatabase(data, log);

    private static JournaledStream Journaled(string path)
    {
        var file = new DurableFileStream(path);
        try
        {
            return new JournaledStream(file, new DurableFileStream(path + ".journal"));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public static string LogPathOf(string path) => Path.ChangeExtension(path, null) + "-log" + Path.GetExtension(path);

    /// <summary>
    /// Makes everything committed so far durable: the checkpoint waits for LiteDB's background log writer,
    /// copies the log into the data file and flushes both through the (durable) streams.
    /// </summary>
    public static void Commit(LiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        database.Checkpoint();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _log.Dispose();
            _data.Dispose();
        }
    }
}
