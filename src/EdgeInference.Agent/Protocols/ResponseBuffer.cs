using System.Buffers;
using System.Text.Json;

namespace EdgeInference.Agent.Protocols;

/// <summary>A reusable output buffer and JSON writer over it; taken from and returned to a <see cref="ResponseBufferPool"/>.</summary>
internal sealed class ResponseBuffer
{
    private static readonly JsonWriterOptions Options = new() { SkipValidation = true };

    public ResponseBuffer()
    {
        Json = new Utf8JsonWriter(Output, Options);
    }

    public ArrayBufferWriter<byte> Output { get; } = new(4096);

    public Utf8JsonWriter Json { get; }

    public void Reset()
    {
        Output.ResetWrittenCount();
        Json.Reset(Output);
    }
}
