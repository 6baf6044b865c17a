using System.Threading.Channels;
using LiteDB;

namespace EdgeInference.Storage;

/// <summary>
/// A durable, numbered log of records (the prediction log, the MQTT outbox): producers append without
/// waiting; a single writer commits batches to LiteDB and acknowledges a record only once its batch is on
/// disk. Each commit is one document (<c>_id</c> = first sequence, <c>last</c>, <c>n</c>, and the records in
/// their compact binary form), since LiteDB's cost is per document; <c>dropped</c>, when present, counts the
/// records at its head that the size bound has since dropped. The size is bounded by
/// <see cref="DurableLogOptions.MaxRecords"/> under <see cref="DurableLogOptions.Policy"/>, and everything
/// dropped is counted. Named checkpoints (how far a consumer such as the MQTT publisher has got) are kept
/// in the same database and are as durable as the records.
/// </summary>
public class DurableLog<TRecord> : IDisposable
    where TRecord : IDurableRecord<TRecord>
{
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
    private long _lastSequence;
    private long _acknowledged;
    private long _count;
    private long _droppedQueueFull;
    private long _droppedByPolicy;
    private long _commits;

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

    /// <summary>Durable commits so far (each one LiteDB checkpoint: a journaled flush, three fsyncs).</summary>
    public long Commits => Interlocked.Read(ref _commits);

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

    /// <summary>Appends a record and completes with its sequence number once it is durable (0 if the policy rejected it).</summary>
    public async Task<long> AppendAsync(TRecord record, CancellationToken cancellationToken)
    {
        var acknowledged = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Entry(record, acknowledged), cancellationToken).ConfigureAwait(false);
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

    /// <summary>The single writer: commits queued records in batches until cancelled, then drains what is queued.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<Entry>(_options.BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_options.CommitInterval > TimeSpan.Zero && _queue.Reader.Count < _options.BatchSize)
                {
                    await Task.Delay(_options.CommitInterval, _time, cancellationToken).ConfigureAwait(false);
                }

                // One batch, then wait again: draining the queue here would, under a steady stream, commit the few
                // records that arrived during each commit straight away, one tiny commit after another.
                WriteBatch(batch);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what is already queued is still written below.
        }

        _queue.Writer.TryComplete();
        WriteQueued(batch);
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
    }

    /// <summary>Writes everything queued (on stopping).</summary>
    private void WriteQueued(List<Entry> batch)
    {
        while (WriteBatch(batch))
        {
        }
    }

    /// <summary>Commits up to <see cref="DurableLogOptions.BatchSize"/> queued records; false if none were queued.</summary>
    private bool WriteBatch(List<Entry> batch)
    {
        batch.Clear();
        while (batch.Count < _options.BatchSize && _queue.Reader.TryRead(out var entry))
        {
            batch.Add(entry);
        }

        if (batch.Count > 0)
        {
            Commit(batch);
        }

        return batch.Count > 0;
    }

    private void Commit(List<Entry> batch)
    {
        var sequences = new long[batch.Count];
        var first = _lastSequence + 1;
        var count = 0;
        _batchBytes.SetLength(0);
        using (var writer = new BinaryWriter(_batchBytes, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (_options.Policy == DurableLogPolicy.RejectNew && _count + count >= _options.MaxRecords)
                {
                    Interlocked.Increment(ref _droppedByPolicy);
                    continue;
                }

                batch[i].Record.Sequence = sequences[i] = ++_lastSequence;
                batch[i].Record.WriteTo(writer);
                count++;
            }
        }

        lock (_database)
        {
            if (count > 0)
            {
                _records.Insert(Document(first, count, _batchBytes.ToArray()));
                if (_batchBytes.Capacity > MaxRetainedBatchBytes)
                {
                    _batchBytes.SetLength(0);
                    _batchBytes.Capacity = 0; // a batch of large sampled inputs: do not keep its buffer
                }

                Interlocked.Add(ref _count, count);
            }

            if (_options.Policy == DurableLogPolicy.DropOldest && _count > _options.MaxRecords)
            {
                DropOldest(_count - _options.MaxRecords);
            }

            DurableLiteDatabase.Commit(_database);
        }

        Interlocked.Increment(ref _commits);
        Interlocked.Exchange(ref _acknowledged, _lastSequence);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Acknowledged?.TrySetResult(sequences[i]);
        }
    }

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
