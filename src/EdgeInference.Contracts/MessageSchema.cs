namespace EdgeInference.Contracts;

/// <summary>The schema version every message carries; bumped on a breaking change (docs/mqtt/asyncapi.yaml).</summary>
public static class MessageSchema
{
    public const int Version = 1;
}
