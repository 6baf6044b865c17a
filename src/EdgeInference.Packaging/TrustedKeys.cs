using System.Security.Cryptography;

namespace EdgeInference.Packaging;

/// <summary>The public keys a device trusts to sign packages, by key id.</summary>
public sealed class TrustedKeys : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <summary>The key with id <paramref name="keyId"/>, or null.</summary>
    internal ECDsa? Find(string keyId) => _keys.GetValueOrDefault(keyId);

    /// <summary>Every <c>*.pem</c> public key in <paramref name="directory"/>; throws <see cref="FormatException"/> naming a file that is not one.</summary>
    public static TrustedKeys FromDirectory(string directory)
    {
        var keys = new TrustedKeys();
        try
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.pem").Order(StringComparer.Ordinal))
            {
                try
                {
                    keys.Add(File.ReadAllText(file));
                }
                catch (FormatException ex)
                {
                    throw new FormatException($"{file}: {ex.Message}", ex);
                }
            }

            return keys;
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }

    /// <summary>Adds a P-256 public key (SubjectPublicKeyInfo PEM) and returns its id.</summary>
    public string Add(string publicKeyPem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or PlatformNotSupportedException)
        {
            key.Dispose();
            throw new FormatException("not an EC public key in PEM: " + ex.Message, ex);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new FormatException($"a {key.KeySize}-bit EC key; package keys are P-256");
        }

        var id = global::EdgeInference.Packaging.KeyIds.Of(key);
        if (!_keys.TryAdd(id, key))
        {
            key.Dispose();
        }

        return id;
    }

    /// <summary>
    /// Checks the signature, then parses the manifest. Throws <see cref="PackageRejectedException"/>: unsigned,
    /// untrusted_key, bad_signature or malformed.
    /// </summary>
    public PackageManifest Verify(SignedManifest signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(signed.Manifest);
        }
        catch (FormatException)
        {
            throw new PackageRejectedException(RejectionReasons.Malformed, "the manifest is not base64");
        }

        if (signed.Signature is not { } signature || string.IsNullOrEmpty(signature.Value))
        {
            throw new PackageRejectedException(RejectionReasons.Unsigned, "the package is not signed");
        }

        if (signature.Algorithm != PackageSignature.EcdsaP256Sha256)
        {
            throw new PackageRejectedException(RejectionReasons.BadSignature, $"signature algorithm '{signature.Algorithm}' is not supported ({PackageSignature.EcdsaP256Sha256} is)");
        }

        if (!_keys.TryGetValue(signature.KeyId, out var key))
        {
            throw new PackageRejectedException(RejectionReasons.UntrustedKey, $"the package is signed by key {signature.KeyId}, which this device does not trust");
        }

        byte[] value;
        try
        {
            value = Convert.FromBase64String(signature.Value);
        }
        catch (FormatException)
        {
            throw new PackageRejectedException(RejectionReasons.BadSignature, "the signature is not base64");
        }

        if (!key.VerifyData(bytes, value, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new PackageRejectedException(RejectionReasons.BadSignature, $"the signature does not match the manifest (key {signature.KeyId})");
        }

        return ManifestCodec.Parse(bytes);
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        _keys.Clear();
    }
}
