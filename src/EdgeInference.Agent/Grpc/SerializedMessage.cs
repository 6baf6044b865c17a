using System.Buffers;
using Grpc.Core;

namespace EdgeInference.Agent.Grpc;

/// <summary>
/// A protobuf message kept serialized in a pooled array. ModelInfer takes its request and gives its reply in this form,
/// so the agent reads raw tensor bytes in place and writes the reply from the output tensors, without protobuf objects
/// or per-call copies of the tensors.
/// </summary>
internal sealed class SerializedMessage : IDisposable
{
    /// <summary>Reads a message's bytes into a pooled copy; writing sends the bytes and returns the array to the pool.</summary>
    public static readonly Marshaller<SerializedMessage> Marshaller = Marshallers.Create<SerializedMessage>(Write, Read);

    private byte[]? _buffer;

    private SerializedMessage(int length)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(length);
        Length = length;
    }

    public int Length { get; }

    public Span<byte> Span => (_buffer ?? throw new ObjectDisposedException(nameof(SerializedMessage))).AsSpan(0, Length);

    public static SerializedMessage Rent(int length) => new(length);

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static SerializedMessage Read(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        var message = new SerializedMessage((int)payload.Length);
        payload.CopyTo(message.Span);
        return message;
    }

    private static void Write(SerializedMessage message, SerializationContext context)
    {
        using (message)
        {
            context.SetPayloadLength(message.Length);
            var writer = context.GetBufferWriter();
            message.Span.CopyTo(writer.GetSpan(message.Length));
            writer.Advance(message.Length);
            context.Complete();
        }
    }
}
