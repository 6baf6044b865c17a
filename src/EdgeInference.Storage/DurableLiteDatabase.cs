using LiteDB;

namespace EdgeInference.Storage;

/// <summary>
/// LiteDB whose data file is a <see cref="JournaledStream"/> over fsyncing <see cref="DurableFileStream"/>s, and
/// whose write-ahead log stays in memory; it owns and closes both. LiteDB 5 neither fsyncs its commits nor survives
/// torn or reordered writes; over the journaled stream the data file only ever holds the state of one of LiteDB's
/// flushes of it. Callers make a batch durable with <see cref="Commit"/>, a checkpoint: it copies the log into the
/// data file in one such flush, so everything committed before it survives a power loss and nothing after it needs
/// the log. A log file on disk would only add writes: LiteDB's background writer flushes it after every few pages it
/// writes, each flush a journaled fsync (about 290 a second, three fsyncs each, under a steady stream of predictions).
/// </summary>
public sealed class DurableLiteDatabase : LiteDatabase
{
    private readonly Stream _data;
    private readonly MemoryStream _log;

    private DurableLiteDatabase(Stream data, MemoryStream log)
        : base(data, mapper: null, logStream: log)
    {
        _data = data;
        _log = log;
    }

    /// <summary>
    /// Opens the database file at <paramref name="path"/>. A log file left there by an agent that kept LiteDB's log on
    /// disk is removed: it checkpointed every commit it acknowledged, so such a log holds nothing acknowledged.
    /// </summary>
    public static DurableLiteDatabase Open(string path)
    {
        var log = Path.ChangeExtension(path, null) + "-log" + Path.GetExtension(path);
        File.Delete(log);
        File.Delete(log + ".journal");
        var file = new DurableFileStream(path);
        DurableFileStream? journal = null;
        try
        {
            journal = new DurableFileStream(path + ".journal");
            return Open(new JournaledStream(file, journal));
        }
        catch
        {
            // Both are closed whether or not the journaled stream got to own them (their Dispose is idempotent).
            journal?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/>, thrown while opening or first reading a database, means its file is unreadable
    /// (LiteDB throws whatever its decoding hits on damaged pages: LiteException, out-of-range dates, bad casts…), as
    /// opposed to a file the process cannot open at all (held by another agent, no permission), which must not be moved.
    /// </summary>
    public static bool IsUnreadable(Exception exception) =>
        exception is not (IOException or UnauthorizedAccessException or OutOfMemoryException or OperationCanceledException);

    /// <summary>Opens LiteDB over any journaled file pair (the crash tests pass simulated disks); it takes ownership.</summary>
    public static DurableLiteDatabase Open(JournaledStream data)
    {
        var log = new MemoryStream();
        try
        {
            return new DurableLiteDatabase(data, log);
        }
        catch
        {
            log.Dispose();
            data.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes everything committed so far durable: the checkpoint copies the log into the data file and flushes it
    /// through the (durable, journaled) stream.
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
