namespace EdgeInference.Fleet.Store;

/// <summary>A bearer token or device secret, kept only as its SHA-256.</summary>
public sealed class CredentialRecord
{
    /// <summary>Hex SHA-256 of the secret.</summary>
    public string Hash { get; set; } = "";

    /// <summary>See <see cref="Roles"/>.</summary>
    public string Role { get; set; } = "";

    /// <summary>For a device, its id; for people, a name.</summary>
    public string Subject { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}
