using System.Collections.Concurrent;

namespace EdgeInference.Agent.Protocols;

/// <summary>Keeps a few <see cref="ResponseBuffer"/>s so writing a response allocates nothing.</summary>
internal sealed class ResponseBufferPool
{
    private const int MaxRetained = 64;
    private const int MaxRetainedCapacity = 1 << 20;
    private readonly ConcurrentQueue<ResponseBuffer> _buffers = new();

    public ResponseBuffer Rent()
    {
        if (!_buffers.TryDequeue(out var buffer))
        {
            buffer = new ResponseBuffer();
        }

        buffer.Reset();
        return buffer;
    }

    public void Return(ResponseBuffer buffer)
    {
        if (buffer.Output.Capacity <= MaxRetainedCapacity && _buffers.Count < MaxRetained)
        {
            _buffers.Enqueue(buffer);
        }
    }
}
