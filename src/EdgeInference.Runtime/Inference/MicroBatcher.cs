using System.Threading.Channels;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Inference;

/// <summary>
/// Dynamic micro-batching for one model version: requests queue; one worker takes what is queued (up to
/// the maximum rows, waiting at most the queue delay for more), stacks the inputs along the first
/// dimension, runs once, and splits the outputs back per request. At most <c>max_queue_size</c> requests wait; one
/// more is refused as unavailable (HTTP 503, gRPC UNAVAILABLE) rather than queued without bound behind a slow model.
/// </summary>
internal sealed class MicroBatcher : IDisposable
{
    private readonly ModelVersion _model;
    private readonly int _maxRows;
    private readonly int _maxQueued;
    private int _queued;
    private readonly TimeSpan _maxDelay;
    private readonly ModelRuntimeContext _context;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });

    public MicroBatcher(ModelVersion model, int maxRows, TimeSpan maxDelay, int maxQueued, ModelRuntimeContext context)
    {
        _model = model;
        _maxRows = maxRows;
        _maxQueued = maxQueued;
        _maxDelay = maxDelay;
        _context = context;
        _ = Task.Run(WorkAsync);
    }

    public Task<TensorBuffer?[]> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var rows = request.Inputs[0]!.Shape[0];
        foreach (var input in request.Inputs)
        {
            if (input!.Shape[0] != rows)
            {
                throw new InferenceException(InferenceErrorKind.InvalidInput,
                    $"input '{input.Name}' has {input.Shape[0]} rows but input '{request.Inputs[0]!.Name}' has {rows}; batched inputs must agree");
            }
        }

        if (Interlocked.Increment(ref _queued) > _maxQueued)
        {
            Interlocked.Decrement(ref _queued);
            throw new InferenceException(InferenceErrorKind.Unavailable,
                $"model '{_model.ModelName}' version {_model.VersionText} has {_maxQueued} requests queued, its batching.max_queue_size; retry later");
        }

        var item = new Item(request, rows);
        _model.Metrics.AdjustQueueDepth(1);
        if (!_queue.Writer.TryWrite(item))
        {
            Interlocked.Decrement(ref _queued);
            _model.Metrics.AdjustQueueDepth(-1);
            throw new InferenceException(InferenceErrorKind.Unavailable, $"model '{_model.ModelName}' version {_model.VersionText} is unloading");
        }

        return item.Completion.Task;
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private static bool Compatible(Item a, Item b)
    {
        for (var i = 0; i < a.Request.Inputs.Length; i++)
        {
            if (!a.Request.Inputs[i]!.Shape.AsSpan(1).SequenceEqual(b.Request.Inputs[i]!.Shape.AsSpan(1)))
            {
                return false;
            }
        }

        return true;
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Item>(_maxRows);
        Item? carry = null;
        while (carry is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            if (carry is null && !reader.TryRead(out carry))
            {
                continue;
            }

            batch.Add(carry);
            var rows = carry.Rows;
            carry = null;
            var started = _context.Time.GetTimestamp();
            while (rows < _maxRows)
            {
                if (reader.TryRead(out var next))
                {
                    if (Compatible(batch[0], next) && rows + next.Rows <= _maxRows)
                    {
                        batch.Add(next);
                        rows += next.Rows;
                        continue;
                    }

                    carry = next;
                    break;
                }

                var remaining = _maxDelay - _context.Time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero || !await WaitForMoreAsync(reader, remaining).ConfigureAwait(false))
                {
                    break;
                }
            }

            Interlocked.Add(ref _queued, -batch.Count);
            _model.Metrics.AdjustQueueDepth(-batch.Count);
            Execute(batch, rows);
        }
    }

    private async Task<bool> WaitForMoreAsync(ChannelReader<Item> reader, TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout, _context.Time);
        try
        {
            return await reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Execute(List<Item> batch, long rows)
    {
        if (batch.Count == 1)
        {
            var only = batch[0];
            try
            {
                only.Completion.TrySetResult(_model.Run(only.Request.Inputs, only.Request.RequestedOutputs));
            }
            catch (Exception ex)
            {
                only.Completion.TrySetException(ex);
            }

            return;
        }

        var inputCount = batch[0].Request.Inputs.Length;
        var merged = new TensorBuffer?[inputCount];
        TensorBuffer?[]? outputs = null;
        try
        {
            for (var i = 0; i < inputCount; i++)
            {
                merged[i] = Stack(batch, i, rows);
            }

            outputs = _model.Run(merged, UnionOfRequested(batch));
            long row = 0;
            foreach (var item in batch)
            {
                item.Completion.TrySetResult(Slice(outputs, item, row, rows));
                row += item.Rows;
            }
        }
        catch (Exception ex)
        {
            foreach (var item in batch)
            {
                item.Completion.TrySetException(ex);
            }
        }
        finally
        {
            foreach (var tensor in merged)
            {
                tensor?.Dispose();
            }

            foreach (var tensor in outputs ?? [])
            {
                tensor?.Dispose();
            }
        }
    }

    private TensorBuffer Stack(List<Item> batch, int input, long rows)
    {
        var first = batch[0].Request.Inputs[input]!;
        var length = 0;
        foreach (var item in batch)
        {
            length += item.Request.Inputs[input]!.Length;
        }

        var shape = (long[])first.Shape.Clone();
        shape[0] = rows;
        var stacked = TensorBuffer.Rent(_context.Pool, first.Name, first.DataType, shape, length);
        var offset = 0;
        foreach (var item in batch)
        {
            var part = item.Request.Inputs[input]!;
            part.Span.CopyTo(stacked.Span[offset..]);
            offset += part.Length;
        }

        return stacked;
    }

    private static bool[]? UnionOfRequested(List<Item> batch)
    {
        bool[]? union = null;
        foreach (var item in batch)
        {
            if (item.Request.RequestedOutputs is not { } requested)
            {
                return null;
            }

            union ??= new bool[requested.Length];
            for (var i = 0; i < requested.Length; i++)
            {
                union[i] |= requested[i];
            }
        }

        return union;
    }

    private TensorBuffer?[] Slice(TensorBuffer?[] outputs, Item item, long row, long rows)
    {
        var slices = new TensorBuffer?[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            if (outputs[i] is not { } output || item.Request.RequestedOutputs is { } requested && !requested[i])
            {
                continue;
            }

            if (output.Shape.Length == 0 || output.Shape[0] != rows)
            {
                throw new InferenceException(InferenceErrorKind.Internal,
                    $"output '{output.Name}' has shape {TensorShape.Format(output.Shape)}, whose first dimension is not the batch of {rows}");
            }

            var shape = (long[])output.Shape.Clone();
            shape[0] = item.Rows;
            int start, length;
            if (output.DataType == TensorDataType.Bytes)
            {
                var perRow = TensorShape.ElementCount(output.Shape) / rows;
                start = TensorShape.BytesPrefixLength(output.Span, row * perRow);
                length = TensorShape.BytesPrefixLength(output.Span[start..], item.Rows * perRow);
            }
            else
            {
                var rowBytes = (int)(output.Length / rows);
                start = (int)(row * rowBytes);
                length = (int)(item.Rows * rowBytes);
            }

            slices[i] = TensorBuffer.Rent(_context.Pool, output.Name, output.DataType, shape, length);
            output.Span.Slice(start, length).CopyTo(slices[i]!.Span);
        }

        return slices;
    }

    private sealed class Item(InferenceRequest request, long rows)
    {
        public InferenceRequest Request { get; } = request;

        public long Rows { get; } = rows;

        public TaskCompletionSource<TensorBuffer?[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
