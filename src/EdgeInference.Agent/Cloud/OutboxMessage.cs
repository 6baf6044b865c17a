using EdgeInference.Storage;

namespace EdgeInference.Agent.Cloud;

/// <summary>A message waiting in the outbox: the last level of its topic (e.g. <c>telemetry</c>) and its JSON payload.</summary>
public sealed class OutboxMessage : IDurableRecord<OutboxMessage>
{
    public long Sequence { get; set; }

    public string Topic { get; set; } = "";

    public byte[] Payload { get; set; } = [];

    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Topic);
        writer.Write7BitEncodedInt(Payload.Length);
        writer.Write(Payload);
    }

    public static OutboxMessage ReadFrom(BinaryReader reader, long sequence)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new OutboxMessage { Sequence = sequence, Topic = reader.ReadString(), Payload = reader.ReadBytes(reader.Read7BitEncodedInt()) };
    }
}
