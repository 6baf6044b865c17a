using System.Threading.Channels;
using LiteDB;

namespace EdgeInference.Storage;

/// <summary>
/// A durable, numbered log of records (the prediction log, the MQTT outbox): producers append without
/// waiting; a single writer commits batches to LiteDB and acknowledges a record only once its batch is on
/// disk. Each commit is one document (<c>_id</c> = first sequence, <c>last</c>, <c>n</c>, and the records in
/// their compact binary form), since LiteDB's cost is per document; <c>dropped</c>, when present, counts the
/// records at its head that the size bound has since dropped. A batch is split into documents of at most
/// <see cref="MaxDocumentBytes"/> (LiteDB refuses documents over about 16 MB), and a single record over
/// <see cref="MaxRecordBytes"/> is refused and counted. The size is bounded by
/// <see cref="DurableLogOptions.MaxRecords"/> under <see cref="DurableLogOptions.Policy"/>, and everything
/// dropped is counted. Named checkpoints (how far a consumer such as the MQTT publisher has got) are kept
/// in the same database and are as durable as the records.
/// <para>
/// Group commit: the writer gathers records for <see cref="DurableLogOptions.CommitInterval"/> before each commit,
/// unless a caller waits on its record (<see cref="AppendAsync"/>): then it commits at once, and the records that
/// arrive meanwhile go in the next commit. A commit that fails (a full disk) is rolled back and its records stay
/// the writer's, first in line when it runs again: none is lost and no waiter is left hanging.
/// </para>
/// </summary>
public class DurableLog<TRecord> : IDisposable
    where TRecord : IDurableRecord<TRecord>
{
    /// <summary>The most record bytes one LiteDB document holds; a bigger batch is split.</summary>
    public const int MaxDocumentBytes = 4 << 20;

    /// <summary>The largest record the log takes (LiteDB's document limit is about 16 MB).</summary>
    public const int MaxRecordBytes = 12 << 20;

    private const string CheckpointCollection = "checkpoints";
    private const int MaxRetainedBatchBytes = 1 << 20;

    private readonly DurableLogOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<Entry> _queue;
    private readonly LiteDatabase _database;
    private readonly ILiteCollection<BsonDocument> _records;
    private readonly ILiteCollection<BsonDocument> _checkpoints;
    private readonly Dictionary<string, long> _checkpointCache = [];
    private readonly MemoryStream _batchBytes = new(); // the single writer's, reused from commit to commit
    private readonly List<Entry> _batch = []; // the single writer's: taken from the queue, not yet committed
    private long[]? _inserted; // the batch's sequences once it is in LiteDB's log but its checkpoint failed
    private readonly SemaphoreSlim _waiting = new(0); // released when a caller waits on its record
    private long _lastSequence;
    private long _acknowledged;
    private long _count;
    private long _droppedQueueFull;
    private long _droppedByPolicy;
    private long _droppedTooLarge;
    private long _commits;
    private long _commitFailures;

    /// <param name="options">Size bound and group commit.</param>
    /// <param name="open">Opens the database; production passes <see cref="DurableLiteDatabase.Open"/>.</param>
    /// <param name="collection">The LiteDB collection of the records.</param>
    /// <param name="time">The clock of the group commit.</param>
    public DurableLog(DurableLogOptions options, Func<LiteDatabase> open, string collection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        _time = time ?? TimeProvider.System;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _database = open();
        _records = _database.GetCollection(collection, BsonAutoId.Int64);
        _checkpoints = _database.GetCollection(CheckpointCollection);
        foreach (var checkpoint in _checkpoints.FindAll())
        {
            _checkpointCache[checkpoint["_id"].AsString] = checkpoint["sequence"].AsInt64;
        }
        _records.EnsureIndex("last");
        foreach (var batch in _records.FindAll())
        {
            _count += batch["n"].AsInt32 - Dropped(batch);
            _lastSequence = Math.Max(_lastSequence, batch["last"].AsInt64);
        }

        _acknowledged = _lastSequence;
    }

    /// <summary>Records in the log now.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The highest sequence number that is durable.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Records dropped because the writer's queue was full.</summary>
    public long DroppedQueueFull => Interlocked.Read(ref _droppedQueueFull);

    /// <summary>Records dropped by the size policy (oldest deleted, or new rejected).</summary>
    public long DroppedByPolicy => Interlocked.Read(ref _droppedByPolicy);

    public long Pending => _queue.Reader.Count;

    /// <summary>Records refused because they alone were over <see cref="MaxRecordBytes"/>.</summary>
    public long DroppedTooLarge => Interlocked.Read(ref _droppedTooLarge);

    /// <summary>Durable commits so far (each one LiteDB checkpoint: a journaled flush, three fsyncs).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Commits that failed and were rolled back (their records are retried).</summary>
    public long CommitFailures => Interlocked.Read(ref _commitFailures);

    /// <summary>Queues a record without waiting; false (and counted) when the queue is full.</summary>
    public bool TryAppend(TRecord record)
    {
        if (_queue.Writer.TryWrite(new Entry(record, null)))
        {
            return true;
        }

        Interlocked.Increment(ref _droppedQueueFull);
        return false;
    }

    /// <summary>
    /// Appends a record and completes with its sequence number once it is durable (0 if the policy or the size limit
    /// refused it). The writer commits at once rather than waiting out the group-commit interval.
    /// </summary>
    public async Task<long> AppendAsync(TRecord record, CancellationToken cancellationToken)
    {
        var acknowledged = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Entry(record, acknowledged), cancellationToken).ConfigureAwait(false);
        _waiting.Release();
        return await acknowledged.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records after <paramref name="afterSequence"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<TRecord> Read(long afterSequence, int limit)
    {
        var records = new List<TRecord>();
        lock (_database)
        {
            foreach (var batch in _records.Find(Query.GT("last", afterSequence)))
            {
                foreach (var record in Decode(batch))
                {
                    if (record.Sequence > afterSequence && records.Count < limit)
                    {
                        records.Add(record);
                    }
                }

                if (records.Count >= limit)
                {
                    break;
                }
            }
        }

        return records;
    }

    /// <summary>How far the consumer <paramref name="name"/> has got (0 before it starts); read from memory, as saved.</summary>
    public long ReadCheckpoint(string name)
    {
        lock (_database)
        {
            return _checkpointCache.GetValueOrDefault(name);
        }
    }

    /// <summary>Durably records that the consumer <paramref name="name"/> is done with everything up to <paramref name="sequence"/>.</summary>
    public void SaveCheckpoint(string name, long sequence)
    {
        lock (_database)
        {
            _checkpoints.Upsert(new BsonDocument { ["_id"] = name, ["sequence"] = sequence });
            DurableLiteDatabase.Commit(_database);
            _checkpointCache[name] = sequence;
        }
    }

    /// <summary>
    /// The single writer: commits queued records in batches until cancelled, then drains what is queued. A failed
    /// commit throws (the caller logs and runs it again); its records are kept and committed first next time.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (_batch.Count > 0 || await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_batch.Count == 0 && _options.CommitInterval > TimeSpan.Zero && _queue.Reader.Count < _options.BatchSize)
                {
                    await GatherAsync(cancellationToken).ConfigureAwait(false);
                }

                // One batch, then wait again: draining the queue here would, under a steady stream, commit the few
                // records that arrived during each commit straight away, one tiny commit after another.
                WriteBatch();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what is already queued is still written below.
        }

        _queue.Writer.TryComplete();
        WriteQueued();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        _queue.Writer.TryComplete();
        lock (_database)
        {
            _database.Dispose();
        }

        _batchBytes.Dispose();
        _waiting.Dispose();
    }

    /// <summary>Waits out the group-commit interval, or less if a caller starts waiting on its record.</summary>
    private async Task GatherAsync(CancellationToken cancellationToken)
    {
        if (_waiting.CurrentCount > 0)
        {
            // Callers began waiting since the last commit: their records are queued, so commit them now.
            while (_waiting.Wait(0, CancellationToken.None))
            {
            }

            return;
        }

        using var interval = new CancellationTokenSource(_options.CommitInterval, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interval.Token);
        try
        {
            await _waiting.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval is over.
        }
    }

    /// <summary>Writes everything queued (on stopping).</summary>
    private void WriteQueued()
    {
        while (WriteBatch())
        {
        }
    }

    /// <summary>
    /// Commits the records a failed commit left, or else up to <see cref="DurableLogOptions.BatchSize"/> queued ones;
    /// false if there were none.
    /// </summary>
    private bool WriteBatch()
    {
        if (_batch.Count == 0)
        {
            while (_batch.Count < _options.BatchSize && _queue.Reader.TryRead(out var entry))
            {
                _batch.Add(entry);
            }
        }

        if (_batch.Count == 0)
        {
            return false;
        }

        Commit(_batch);
        _batch.Clear();
        return true;
    }

    /// <summary>
    /// Commits <paramref name="batch"/>: its records go into LiteDB in one transaction (split into documents by size),
    /// then a checkpoint makes them durable and they are acknowledged. If the transaction fails it is rolled back and
    /// the batch is tried whole next time; if the checkpoint fails the records are already in LiteDB's log, and next
    /// time only the checkpoint is tried again.
    /// </summary>
    private void Commit(List<Entry> batch)
    {
        var sequences = _inserted ?? Insert(batch);
        _inserted = sequences;
        lock (_database)
        {
            try
            {
                DurableLiteDatabase.Commit(_database);
            }
            catch
            {
                Interlocked.Increment(ref _commitFailures);
                throw;
            }
        }

        _inserted = null;
        Interlocked.Increment(ref _commits);
        Interlocked.Exchange(ref _acknowledged, _lastSequence);
        for (var i = 0; i < batch.Count; i++)
        {
            if (sequences[i] > 0)
            {
                batch[i].Record.Sequence = sequences[i];
            }

            batch[i].Acknowledged?.TrySetResult(sequences[i]);
        }
    }

    /// <summary>Numbers and inserts the batch's records in one LiteDB transaction; returns each record's sequence (0: refused).</summary>
    private long[] Insert(List<Entry> batch)
    {
        var sequences = new long[batch.Count];
        var documents = new List<BsonDocument>(1);
        var previousLast = _lastSequence;
        var count = 0;
        var refused = 0;
        var tooLarge = 0;
        _batchBytes.SetLength(0);
        using (var writer = new BinaryWriter(_batchBytes, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var chunkStart = 0L;
            var chunkFirst = _lastSequence + 1;
            for (var i = 0; i < batch.Count; i++)
            {
                if (_options.Policy == DurableLogPolicy.RejectNew && _count + count >= _options.MaxRecords)
                {
                    refused++;
                    continue;
                }

                var start = _batchBytes.Length;
                batch[i].Record.WriteTo(writer);
                writer.Flush();
                if (_batchBytes.Length - start > MaxRecordBytes)
                {
                    _batchBytes.SetLength(start);
                    _batchBytes.Position = start;
                    tooLarge++;
                    continue;
                }

                if (start > chunkStart && _batchBytes.Length - chunkStart > MaxDocumentBytes)
                {
                    // This record would take the document past its size: the document ends before it.
                    documents.Add(Document(chunkFirst, (int)(_lastSequence - chunkFirst + 1), Slice(chunkStart, start)));
                    chunkStart = start;
                    chunkFirst = _lastSequence + 1;
                }

                sequences[i] = ++_lastSequence;
                count++;
            }

            if (_lastSequence >= chunkFirst)
            {
                documents.Add(Document(chunkFirst, (int)(_lastSequence - chunkFirst + 1), Slice(chunkStart, _batchBytes.Length)));
            }
        }

        if (_batchBytes.Capacity > MaxRetainedBatchBytes)
        {
            _batchBytes.SetLength(0);
            _batchBytes.Capacity = 0; // a batch of large sampled inputs: do not keep its buffer
        }

        lock (_database)
        {
            var countBefore = Interlocked.Read(ref _count);
            var droppedBefore = Interlocked.Read(ref _droppedByPolicy);
            _database.BeginTrans();
            try
            {
                foreach (var document in documents)
                {
                    _records.Insert(document);
                }

                Interlocked.Add(ref _count, count);
                if (_options.Policy == DurableLogPolicy.DropOldest && _count > _options.MaxRecords)
                {
                    DropOldest(_count - _options.MaxRecords);
                }

                _database.Commit();
            }
            catch
            {
                // Nothing of this batch happened: its records stay the writer's and are inserted again next time.
                _database.Rollback();
                Interlocked.Exchange(ref _count, countBefore);
                Interlocked.Exchange(ref _droppedByPolicy, droppedBefore);
                _lastSequence = previousLast;
                Interlocked.Increment(ref _commitFailures);
                throw;
            }
        }

        Interlocked.Add(ref _droppedByPolicy, refused);
        Interlocked.Add(ref _droppedTooLarge, tooLarge);
        return sequences;
    }

    private byte[] Slice(long from, long to) => _batchBytes.GetBuffer().AsSpan((int)from, (int)(to - from)).ToArray();

    private static BsonDocument Document(long first, int count, byte[] records) => new()
    {
        ["_id"] = first,
        ["last"] = first + count - 1,
        ["n"] = count,
        ["records"] = records,
    };

    private static IEnumerable<TRecord> Decode(BsonDocument batch)
    {
        var first = batch["_id"].AsInt64;
        var count = batch["n"].AsInt32;
        var dropped = Dropped(batch);
        using var reader = new BinaryReader(new MemoryStream(batch["records"].AsBinary), System.Text.Encoding.UTF8);
        for (var i = 0; i < count; i++)
        {
            var record = TRecord.ReadFrom(reader, first + i);
            if (i >= dropped)
            {
                yield return record;
            }
        }
    }

    private static int Dropped(BsonDocument batch) => batch.TryGetValue("dropped", out var dropped) ? dropped.AsInt32 : 0;

    /// <summary>
    /// Deletes the oldest <paramref name="excess"/> records: whole batches, then the head of the next one, which is
    /// only marked dropped. Splitting it would decode and re-encode a whole batch on every commit once the log is
    /// full, which is where a device's log spends its life.
    /// </summary>
    private void DropOldest(long excess)
    {
        while (excess > 0 && _records.Find(Query.All("_id", Query.Ascending), skip: 0, limit: 1).FirstOrDefault() is { } batch)
        {
            var alreadyDropped = Dropped(batch);
            var left = batch["n"].AsInt32 - alreadyDropped;
            var dropped = (int)Math.Min(left, excess);
            if (dropped == left)
            {
                _records.Delete(batch["_id"]);
            }
            else
            {
                batch["dropped"] = alreadyDropped + dropped;
                _records.Update(batch);
            }

            excess -= dropped;
            Interlocked.Add(ref _count, -dropped);
            Interlocked.Add(ref _droppedByPolicy, dropped);
        }
    }

    private readonly record struct Entry(TRecord Record, TaskCompletionSource<long>? Acknowledged);
}
