using System.Security.Cryptography;

namespace EdgeInference.Packaging;

/// <summary>Key ids: the first 16 hex digits of the SHA-256 of a public key's SubjectPublicKeyInfo.</summary>
public static class KeyIds
{
    public static string Of(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
    }
}
