using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Inference;

/// <summary>A least-recently-used cache of outputs, bounded by entries and by bytes.</summary>
public sealed class PredictionCache
{
    private readonly int _maxEntries;
    private readonly long _maxBytes;
    private readonly Dictionary<PredictionCacheKey, LinkedListNode<Entry>> _map = [];
    private readonly LinkedList<Entry> _order = new();
    private readonly Lock _lock = new();
    private long _bytes;

    public PredictionCache(int maxEntries, long maxBytes)
    {
        _maxEntries = maxEntries;
        _maxBytes = maxBytes;
    }

    /// <summary>Copies of the cached outputs in buffers from <paramref name="pool"/>, or null on a miss.</summary>
    public TensorBuffer?[]? TryGet(PredictionCacheKey key, PinnedBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        TensorBuffer?[] stored;
        lock (_lock)
        {
            if (!_map.TryGetValue(key, out var node))
            {
                return null;
            }

            _order.Remove(node);
            _order.AddFirst(node);
            stored = node.Value.Outputs;
        }

        var copies = new TensorBuffer?[stored.Length];
        for (var i = 0; i < stored.Length; i++)
        {
            if (stored[i] is { } output)
            {
                copies[i] = TensorBuffer.Rent(pool, output.Name, output.DataType, output.Shape, output.Length);
                output.Span.CopyTo(copies[i]!.Span);
            }
        }

        return copies;
    }

    /// <summary>Stores copies of <paramref name="outputs"/> (the caller keeps its own).</summary>
    public void Add(PredictionCacheKey key, TensorBuffer?[] outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var copies = new TensorBuffer?[outputs.Length];
        long size = 0;
        for (var i = 0; i < outputs.Length; i++)
        {
            if (outputs[i] is { } output)
            {
                copies[i] = TensorBuffer.Copy(output.Name, output.DataType, output.Shape, output.Span);
                size += output.Length;
            }
        }

        if (size > _maxBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (_map.ContainsKey(key))
            {
                return;
            }

            _map[key] = _order.AddFirst(new Entry(key, copies, size));
            _bytes += size;
            while (_map.Count > _maxEntries || _bytes > _maxBytes)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                _bytes -= last.Value.Size;
            }
        }
    }

    private sealed record Entry(PredictionCacheKey Key, TensorBuffer?[] Outputs, long Size);
}
