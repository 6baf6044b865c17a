using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeInference.Packaging;

/// <summary>An operator's ECDSA P-256 key pair, which signs manifests. Keys are kept as PEM: PKCS#8 private, SubjectPublicKeyInfo public.</summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa _key;

    private SigningKey(ECDsa key)
    {
        _key = key;
        KeyId = KeyIds.Of(key);
    }

    public string KeyId { get; }

    public static SigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Reads a private key from PEM; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static SigningKey FromPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new FormatException($"the key is a {key.KeySize}-bit EC key; signing keys are P-256");
            }

            key.ExportParameters(includePrivateParameters: true); // throws for a public key
            return new SigningKey(key);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or PlatformNotSupportedException)
        {
            key.Dispose();
            throw new FormatException("not a P-256 private key in PEM (PKCS#8 or SEC1): " + ex.Message, ex);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public string PrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    public string PublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>Serializes <paramref name="manifest"/> and signs its bytes.</summary>
    public SignedManifest Sign(PackageManifest manifest)
    {
        var bytes = ManifestCodec.Serialize(manifest);
        return new SignedManifest { Manifest = Convert.ToBase64String(bytes), Signature = Sign(bytes) };
    }

    public PackageSignature Sign(ReadOnlySpan<byte> manifestBytes) => new()
    {
        KeyId = KeyId,
        Algorithm = PackageSignature.EcdsaP256Sha256,
        Value = Convert.ToBase64String(_key.SignData(manifestBytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
    };

    public void Dispose() => _key.Dispose();
}
