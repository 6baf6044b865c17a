namespace EdgeInference.Contracts;

/// <summary>A sampled input tensor: raw little-endian bytes, base64 in JSON.</summary>
public sealed class InputSampleMessage
{
    public string Name { get; set; } = "";

    public string Datatype { get; set; } = "";

    public long[] Shape { get; set; } = [];

    public byte[] Data { get; set; } = [];
}
