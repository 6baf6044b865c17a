using System.Text.Json;
using EdgeInference.Packaging;
using EdgeInference.Storage;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// What this device trusts to sign packages, and the floors below which it installs nothing. Until it takes a signed
/// trust document it trusts the keys in <see cref="UpdateOptions.TrustedKeys"/>; once it holds one (kept in
/// <c>&lt;data&gt;/updates/trust.json</c>) it trusts that document's signing keys, refuses its revoked keys and its
/// floors, and takes only newer documents signed by enough of its root keys (<see cref="TrustCodec.Verify"/>). The
/// first document must be signed by <see cref="UpdateOptions.RootThreshold"/> of the keys in <see cref="UpdateOptions.RootKeys"/>.
/// </summary>
public sealed class DeviceTrust
{
    private readonly UpdateOptions _options;
    private readonly TimeProvider _time;
    private readonly string _path;
    private readonly Lock _lock = new();
    private TrustDocument? _current;

    public DeviceTrust(UpdateOptions options, string updatesDirectory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _path = Path.Combine(updatesDirectory, "trust.json");
        if (File.Exists(_path))
        {
            // Verified when it was taken; a file that no longer reads is a fault to report, not to trust.
            _current = TrustCodec.Parse(JsonSerializer.Deserialize(File.ReadAllBytes(_path), PackageJsonContext.Default.SignedTrust)
                ?? throw new InvalidDataException($"{_path} is empty"));
        }
    }

    /// <summary>The version of the trust document held (0: none).</summary>
    public long Version
    {
        get
        {
            lock (_lock)
            {
                return _current?.Version ?? 0;
            }
        }
    }

    /// <summary>Takes <paramref name="signed"/> if it is a valid successor; returns false if it is the one held already.</summary>
    public bool Apply(SignedTrust signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        lock (_lock)
        {
            var roots = _current?.RootKeys ?? BootstrapRoots();
            if (roots.Count == 0)
            {
                throw new PackageRejectedException(RejectionReasons.UntrustedKey, "this device has no root keys (Updates:RootKeys) to check a trust document with");
            }

            var parsed = TrustCodec.Parse(signed);
            if (_current is not null && parsed.Version == _current.Version)
            {
                return false;
            }

            var document = TrustCodec.Verify(signed, roots, _current?.Threshold ?? _options.RootThreshold, _current?.Version ?? 0, _time.GetUtcNow());
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            DurableFiles.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(signed, PackageJsonContext.Default.SignedTrust));
            _current = document;
            return true;
        }
    }

    /// <summary>
    /// Checks a package's signature against what the device trusts now and returns its manifest. Throws
    /// <see cref="PackageRejectedException"/>: revoked_key, untrusted_key, unsigned, bad_signature, malformed, expired
    /// (the trust document itself), below_floor.
    /// </summary>
    public PackageManifest VerifyPackage(SignedManifest package)
    {
        ArgumentNullException.ThrowIfNull(package);
        TrustDocument? current;
        lock (_lock)
        {
            current = _current;
        }

        if (current is not null && package.Signature?.KeyId is { } keyId && current.RevokedKeys.Contains(keyId))
        {
            throw new PackageRejectedException(RejectionReasons.RevokedKey, $"the package is signed by key {keyId}, which trust version {current.Version} revoked");
        }

        if (current is not null && _time.GetUtcNow() >= current.ExpiresAt)
        {
            // A device that cannot hear from its roots must not go on trusting what they once said (a freeze attack).
            throw new PackageRejectedException(RejectionReasons.Expired, $"this device's trust version {current.Version} expired at {current.ExpiresAt:O}; the fleet must send a newer one");
        }

        using var keys = current is null ? ConfiguredKeys() : FromPems(current.SigningKeys);
        var manifest = keys.Verify(package);
        if (current?.Floors.GetValueOrDefault(manifest.Name) is { } floor && SemanticVersion.Parse(manifest.Version).CompareTo(SemanticVersion.Parse(floor)) < 0)
        {
            throw new PackageRejectedException(RejectionReasons.BelowFloor, $"{manifest.Name} {manifest.Version} is below the floor {floor} of trust version {current.Version}");
        }

        return manifest;
    }

    private List<string> BootstrapRoots() =>
        _options.RootKeys is { } folder && Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.pem").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList()
            : [];

    private TrustedKeys ConfiguredKeys()
    {
        if (_options.TrustedKeys is not { } folder || !Directory.Exists(folder))
        {
            throw new PackageRejectedException(RejectionReasons.UntrustedKey, "this device trusts no signing keys (Updates:TrustedKeys)");
        }

        try
        {
            return TrustedKeys.FromDirectory(folder);
        }
        catch (FormatException ex)
        {
            throw new PackageRejectedException(RejectionReasons.UntrustedKey, "the trusted keys cannot be read: " + ex.Message);
        }
    }

    private static TrustedKeys FromPems(IEnumerable<string> pems)
    {
        var keys = new TrustedKeys();
        foreach (var pem in pems)
        {
            keys.Add(pem);
        }

        return keys;
    }
}
