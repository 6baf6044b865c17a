using System.Threading.Channels;
using EdgeInference.Agent.Storage;
using LiteDB;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>
/// The durable prediction log: producers append without waiting; a single writer commits batches to
/// LiteDB and acknowledges a record only once its batch is on disk. The size is bounded by
/// <see cref="PredictionLogOptions.MaxRecords"/> under <see cref="PredictionLogOptions.Policy"/>, and
/// everything dropped is counted.
/// </summary>
public sealed class PredictionLogStore : IDisposable
{
    public const string CollectionName = "predictions";

    private readonly PredictionLogOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<Entry> _queue;
    private readonly LiteDatabase _database;
    private readonly ILiteCollection<BsonDocument> _records;
    private long _lastSequence;
    private long _acknowledged;
    private long _count;
    private long _droppedQueueFull;
    private long _droppedByPolicy;

    /// <param name="open">Opens the database; production passes <see cref="DurableLiteDatabase.Open"/>.</param>
    public PredictionLogStore(PredictionLogOptions options, Func<LiteDatabase> open, TimeProvider? time = null)
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
        _records = _database.GetCollection(CollectionName, BsonAutoId.Int64);
        _count = _records.LongCount();
        _lastSequence = _count == 0 ? 0 : _records.Max().AsInt64;
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

    /// <summary>Queues a record without waiting; false (and counted) when the queue is full.</summary>
    public bool TryAppend(PredictionRecord record)
    {
        if (_queue.Writer.TryWrite(new Entry(record, null)))
        {
            return true;
        }

        Interlocked.Increment(ref _droppedQueueFull);
        return false;
    }

    /// <summary>Appends a record and completes with its sequence number once it is durable (0 if the policy rejected it).</summary>
    public async Task<long> AppendAsync(PredictionRecord record, CancellationToken cancellationToken)
    {
        var acknowledged = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Entry(record, acknowledged), cancellationToken).ConfigureAwait(false);
        return await acknowledged.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records after <paramref name="afterSequence"/>, oldest first.</summary>
    public IReadOnlyList<PredictionRecord> Read(long afterSequence, int limit)
    {
        lock (_database)
        {
            return _records.Find(Query.GT("_id", afterSequence), limit: limit).Select(PredictionRecord.FromBson).ToArray();
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

                WriteQueued(batch);
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
        _queue.Writer.TryComplete();
        lock (_database)
        {
            _database.Dispose();
        }
    }

    private void WriteQueued(List<Entry> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < _options.BatchSize && _queue.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }

            if (batch.Count == 0)
            {
                return;
            }

            Commit(batch);
        }
    }

    private void Commit(List<Entry> batch)
    {
        var documents = new List<BsonDocument>(batch.Count);
        var sequences = new long[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            if (_options.Policy == PredictionLogPolicy.RejectNew && _count + documents.Count >= _options.MaxRecords)
            {
                Interlocked.Increment(ref _droppedByPolicy);
                continue;
            }

            batch[i].Record.Sequence = sequences[i] = ++_lastSequence;
            documents.Add(batch[i].Record.ToBson());
        }

        lock (_database)
        {
            if (documents.Count > 0)
            {
                _records.InsertBulk(documents, documents.Count);
                Interlocked.Add(ref _count, documents.Count);
            }

            if (_options.Policy == PredictionLogPolicy.DropOldest && _count > _options.MaxRecords)
            {
                var deleted = _records.DeleteMany(Query.LTE("_id", _lastSequence - _options.MaxRecords));
                Interlocked.Add(ref _count, -deleted);
                Interlocked.Add(ref _droppedByPolicy, deleted);
            }

            DurableLiteDatabase.Commit(_database);
        }

        Interlocked.Exchange(ref _acknowledged, _lastSequence);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Acknowledged?.TrySetResult(sequences[i]);
        }
    }

    private readonly record struct Entry(PredictionRecord Record, TaskCompletionSource<long>? Acknowledged);
}
