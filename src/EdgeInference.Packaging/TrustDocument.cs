namespace EdgeInference.Packaging;

/// <summary>
/// What a device trusts, signed by its root keys (after TUF's root role, in small): which keys may sign packages, which
/// are revoked, the lowest version of each model it may install (a floor even a signed rollback cannot go below), and
/// which keys, how many of them, may sign the next trust document. A device takes a document only if it is newer than
/// its own, unexpired, and signed by enough of both its current root keys and the document's own.
/// </summary>
public sealed class TrustDocument
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    /// <summary>Increases with every document; a device never goes back to a lower one.</summary>
    public long Version { get; set; }

    /// <summary>After this a device refuses the document (and keeps the one it has).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>How many distinct root keys must sign a document.</summary>
    public int Threshold { get; set; } = 1;

    /// <summary>P-256 public keys (SubjectPublicKeyInfo PEM) that sign trust documents.</summary>
    public List<string> RootKeys { get; set; } = [];

    /// <summary>P-256 public keys that sign packages.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>Key ids no package or trust document may be signed with any more.</summary>
    public List<string> RevokedKeys { get; set; } = [];

    /// <summary>Per model, the lowest package version a device may install.</summary>
    public Dictionary<string, string> Floors { get; set; } = new(StringComparer.Ordinal);
}
