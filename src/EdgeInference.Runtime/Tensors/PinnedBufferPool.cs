using System.Collections.Concurrent;

namespace EdgeInference.Runtime.Tensors;

/// <summary>
/// A pool of byte arrays allocated on the pinned object heap, so ONNX Runtime can read and write them
/// in place without a pin per call. Buffers come in power-of-two sizes; each size keeps a bounded number.
/// </summary>
public sealed class PinnedBufferPool
{
    private const int MinBucketShift = 8; // 256 B
    private const int MaxBucketShift = 26; // 64 MiB; larger buffers are allocated and dropped.
    private readonly ConcurrentQueue<byte[]>[] _buckets = new ConcurrentQueue<byte[]>[MaxBucketShift - MinBucketShift + 1];
    private readonly int[] _counts = new int[MaxBucketShift - MinBucketShift + 1];
    private readonly long _retainedBytesPerBucket;

    public PinnedBufferPool(long retainedBytesPerBucket = 16L << 20)
    {
        _retainedBytesPerBucket = retainedBytesPerBucket;
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new ConcurrentQueue<byte[]>();
        }
    }

    /// <summary>Returns a pinned array of at least <paramref name="minimumLength"/> bytes.</summary>
    public byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        var bucket = BucketOf(minimumLength);
        if (bucket < 0)
        {
            return GC.AllocateUninitializedArray<byte>(minimumLength, pinned: true);
        }

        if (_buckets[bucket].TryDequeue(out var array))
        {
            Interlocked.Decrement(ref _counts[bucket]);
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(1 << (bucket + MinBucketShift), pinned: true);
    }

    public void Return(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        var bucket = BucketOf(array.Length);
        if (bucket < 0 || array.Length != 1 << (bucket + MinBucketShift))
        {
            return; // not one of ours: let the GC have it
        }

        var limit = Math.Max(4, _retainedBytesPerBucket / array.Length);
        if (Interlocked.Increment(ref _counts[bucket]) <= limit)
        {
            _buckets[bucket].Enqueue(array);
        }
        else
        {
            Interlocked.Decrement(ref _counts[bucket]);
        }
    }

    private static int BucketOf(int length)
    {
        var shift = length <= 1 << MinBucketShift ? MinBucketShift : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)length - 1);
        return shift > MaxBucketShift ? -1 : shift - MinBucketShift;
    }
}
