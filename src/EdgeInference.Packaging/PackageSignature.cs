namespace EdgeInference.Packaging;

/// <summary>A detached signature over a manifest's exact bytes.</summary>
public sealed class PackageSignature
{
    public const string EcdsaP256Sha256 = "ecdsa-p256-sha256";

    /// <summary>The signer's key id: the first 16 hex digits of the SHA-256 of its public key (SubjectPublicKeyInfo).</summary>
    public string KeyId { get; set; } = "";

    public string Algorithm { get; set; } = EcdsaP256Sha256;

    /// <summary>Base64 of the signature (IEEE P1363: r and s, 64 bytes).</summary>
    public string Value { get; set; } = "";
}
