namespace EdgeInference.Testing;

/// <summary>One message as a subscriber received it.</summary>
public sealed record RecordedMessage(string Topic, byte[] Payload, bool Retained);
