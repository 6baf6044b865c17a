using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeInference.Packaging;

/// <summary>Signs, parses and verifies trust documents; every refusal is a <see cref="PackageRejectedException"/> naming the problem.</summary>
public static class TrustCodec
{
    /// <summary>The longest a trust document may be valid: a device must hear from its roots at least this often.</summary>
    public static readonly TimeSpan MaxValidity = TimeSpan.FromDays(400);

    public static byte[] Serialize(TrustDocument document) => JsonSerializer.SerializeToUtf8Bytes(document, PackageJsonContext.Default.TrustDocument);

    /// <summary>Serializes <paramref name="document"/> and signs it with each of <paramref name="roots"/>.</summary>
    public static SignedTrust Sign(TrustDocument document, params SigningKey[] roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var bytes = Serialize(document);
        return new SignedTrust { Trust = Convert.ToBase64String(bytes), Signatures = roots.Select(r => r.Sign(bytes)).ToList() };
    }

    /// <summary>Adds <paramref name="root"/>'s signature to <paramref name="signed"/> (another root signing the same bytes).</summary>
    public static SignedTrust AddSignature(SignedTrust signed, SigningKey root)
    {
        ArgumentNullException.ThrowIfNull(signed);
        ArgumentNullException.ThrowIfNull(root);
        var bytes = Bytes(signed);
        return new SignedTrust { Trust = signed.Trust, Signatures = [.. signed.Signatures.Where(s => s.KeyId != root.KeyId), root.Sign(bytes)] };
    }

    /// <summary>Parses the document's bytes and checks its structure (not its signatures).</summary>
    public static TrustDocument Parse(SignedTrust signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        TrustDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(Bytes(signed), PackageJsonContext.Default.TrustDocument);
        }
        catch (JsonException ex)
        {
            throw Rejected(RejectionReasons.Malformed, $"the trust document is not valid JSON: {ex.Message}");
        }

        if (document is null || document.SchemaVersion != TrustDocument.CurrentSchemaVersion)
        {
            throw Rejected(RejectionReasons.Malformed, $"the trust document's schema_version is not {TrustDocument.CurrentSchemaVersion}");
        }

        if (document.Version < 1 || document.RootKeys is null || document.SigningKeys is null || document.RevokedKeys is null || document.Floors is null)
        {
            throw Rejected(RejectionReasons.Malformed, "the trust document needs a version of 1 or more and root_keys, signing_keys, revoked_keys and floors");
        }

        if (document.Threshold < 1 || document.Threshold > document.RootKeys.Count)
        {
            throw Rejected(RejectionReasons.Malformed, $"threshold {document.Threshold} must be between 1 and the {document.RootKeys.Count} root keys");
        }

        foreach (var (model, floor) in document.Floors)
        {
            if (!ManifestCodec.IsValidName(model) || !SemanticVersion.TryParse(floor, out _))
            {
                throw Rejected(RejectionReasons.Malformed, $"floor '{model}': '{floor}' needs a model name and a semantic version");
            }
        }

        using var roots = Keys(document.RootKeys, "root_keys");
        using var signing = Keys(document.SigningKeys, "signing_keys");
        return document;
    }

    /// <summary>
    /// Verifies <paramref name="signed"/> as the successor of what the device trusts: <paramref name="currentRoots"/> (PEM)
    /// with <paramref name="currentThreshold"/>, and version <paramref name="currentVersion"/>. It must be newer, unexpired,
    /// valid for at most <see cref="MaxValidity"/>, and signed by at least the threshold of the current roots and of its
    /// own roots (so a rotation is approved by the old keys and proven by the new), none of them revoked.
    /// </summary>
    public static TrustDocument Verify(SignedTrust signed, IReadOnlyList<string> currentRoots, int currentThreshold, long currentVersion, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(currentRoots);
        var document = Parse(signed);
        if (document.Version <= currentVersion)
        {
            throw Rejected(RejectionReasons.TrustRollback, $"trust version {document.Version} is not newer than this device's {currentVersion}");
        }

        if (now >= document.ExpiresAt)
        {
            throw Rejected(RejectionReasons.Expired, $"trust version {document.Version} expired at {document.ExpiresAt:O}");
        }

        if (document.ExpiresAt - now > MaxValidity)
        {
            throw Rejected(RejectionReasons.Malformed, $"trust version {document.Version} is valid until {document.ExpiresAt:O}, more than {MaxValidity.TotalDays:0} days ahead");
        }

        var bytes = Bytes(signed);
        var revoked = new HashSet<string>(document.RevokedKeys, StringComparer.Ordinal);
        using var current = Keys(currentRoots, "the device's root keys");
        using var own = Keys(document.RootKeys, "root_keys");
        var byCurrent = Count(signed, bytes, current, revoked);
        if (byCurrent < currentThreshold)
        {
            throw Rejected(RejectionReasons.BadSignature, $"trust version {document.Version} is signed by {byCurrent} of the current root keys; {currentThreshold} are needed");
        }

        var byOwn = Count(signed, bytes, own, revoked);
        if (byOwn < document.Threshold)
        {
            throw Rejected(RejectionReasons.BadSignature, $"trust version {document.Version} is signed by {byOwn} of its own root keys; its threshold is {document.Threshold}");
        }

        return document;
    }

    /// <summary>The key ids of PEM public keys.</summary>
    public static List<string> KeyIdsOf(IEnumerable<string> pems)
    {
        using var keys = Keys(pems, "keys");
        return [.. keys.KeyIds];
    }

    private static int Count(SignedTrust signed, byte[] bytes, TrustedKeys keys, HashSet<string> revoked)
    {
        var valid = new HashSet<string>(StringComparer.Ordinal);
        foreach (var signature in signed.Signatures ?? [])
        {
            if (signature?.KeyId is { } id && !revoked.Contains(id) && keys.Find(id) is { } key && signature.Algorithm == PackageSignature.EcdsaP256Sha256
                && TryBase64(signature.Value) is { } value && key.VerifyData(bytes, value, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                valid.Add(id);
            }
        }

        return valid.Count;
    }

    private static TrustedKeys Keys(IEnumerable<string> pems, string what)
    {
        var keys = new TrustedKeys();
        try
        {
            foreach (var pem in pems)
            {
                keys.Add(pem);
            }

            return keys;
        }
        catch (FormatException ex)
        {
            keys.Dispose();
            throw Rejected(RejectionReasons.Malformed, $"{what}: {ex.Message}");
        }
    }

    private static byte[] Bytes(SignedTrust signed) =>
        TryBase64(signed.Trust) ?? throw Rejected(RejectionReasons.Malformed, "the trust document is not base64");

    private static byte[]? TryBase64(string? text)
    {
        try
        {
            return text is null ? null : Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static PackageRejectedException Rejected(string reason, string message) => new(reason, message);
}
