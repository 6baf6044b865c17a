using EdgeInference.Agent.Updates;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// Trust documents (TUF's root role in small) and the device's trust: thresholds, rotation, rollback of the document,
/// expiry, revocation and version floors, each refused with its reason.
/// </summary>
public sealed class TrustDocumentTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly SigningKey[] _roots = [SigningKey.Generate(), SigningKey.Generate(), SigningKey.Generate()];
    private readonly SigningKey _signer = SigningKey.Generate();
    private readonly SigningKey _newSigner = SigningKey.Generate();
    private readonly string _folder = TestPaths.NewTempDirectory("trust");

    public void Dispose()
    {
        foreach (var key in _roots.Append(_signer).Append(_newSigner))
        {
            key.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void ADocument_SignedByTheThresholdOfTheRoots_IsTaken_AndBelowItIsRefused()
    {
        var document = Document(1, threshold: 2);
        Assert.Equal(1, TrustCodec.Verify(TrustCodec.Sign(document, _roots[0], _roots[2]), Pems(_roots), 2, 0, Now).Version);
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(document, _roots[0]), Pems(_roots), 2, 0, Now)));
        // The same key twice is one signer.
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(document, _roots[0], _roots[0]), Pems(_roots), 2, 0, Now)));
    }

    [Fact]
    public void ADocument_ThatIsNotNewer_Expired_TooLongLived_OrTampered_IsRefusedWithItsReason()
    {
        Assert.Equal(RejectionReasons.TrustRollback, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(Document(3), _roots[0]), Pems(_roots), 1, 3, Now)));
        Assert.Equal(RejectionReasons.Expired, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(Document(1, expires: Now.AddDays(-1)), _roots[0]), Pems(_roots), 1, 0, Now)));
        Assert.Equal(RejectionReasons.Malformed, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(Document(1, expires: Now.AddDays(500)), _roots[0]), Pems(_roots), 1, 0, Now)));

        var signed = TrustCodec.Sign(Document(1), _roots[0]);
        var other = TrustCodec.Sign(Document(2), _roots[0]);
        var swapped = new SignedTrust { Trust = other.Trust, Signatures = signed.Signatures };
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => TrustCodec.Verify(swapped, Pems(_roots), 1, 0, Now)));
        Assert.Equal(RejectionReasons.Malformed, Refusal(() => TrustCodec.Verify(new SignedTrust { Trust = "not base64!" }, Pems(_roots), 1, 0, Now)));
    }

    [Fact]
    public void RotatingTheRootKeys_NeedsTheOldKeysApproval_AndTheNewKeysProof()
    {
        using var fresh = SigningKey.Generate();
        var rotated = Document(2, roots: [fresh]);

        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(rotated, fresh), Pems(_roots), 1, 1, Now)));
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(rotated, _roots[0]), Pems(_roots), 1, 1, Now)));
        Assert.Equal(2, TrustCodec.Verify(TrustCodec.Sign(rotated, _roots[0], fresh), Pems(_roots), 1, 1, Now).Version);
    }

    [Fact]
    public void ARevokedRootsSignature_DoesNotCount()
    {
        var document = Document(1, threshold: 1);
        document.RevokedKeys.Add(_roots[0].KeyId);
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => TrustCodec.Verify(TrustCodec.Sign(document, _roots[0]), Pems(_roots), 1, 0, Now)));
    }

    [Fact]
    public void TheDevice_TrustsItsConfiguredKeysUntilItTakesADocument_ThenItsKeysRevocationsAndFloors_AcrossARestart()
    {
        var time = new FakeTimeProvider(Now);
        var trusted = Directory.CreateDirectory(Path.Combine(_folder, "trusted")).FullName;
        File.WriteAllText(Path.Combine(trusted, "ops.pub.pem"), _signer.PublicKeyPem());
        var roots = Directory.CreateDirectory(Path.Combine(_folder, "roots")).FullName;
        for (var i = 0; i < _roots.Length; i++)
        {
            File.WriteAllText(Path.Combine(roots, $"root-{i}.pub.pem"), _roots[i].PublicKeyPem());
        }

        var options = new UpdateOptions { TrustedKeys = trusted, RootKeys = roots, RootThreshold = 2 };
        var updates = Path.Combine(_folder, "updates");
        var device = new DeviceTrust(options, updates, time);
        Assert.Equal("2.0.0", device.VerifyPackage(_signer.Sign(Manifest("2.0.0"))).Version);
        Assert.Equal(RejectionReasons.UntrustedKey, Refusal(() => device.VerifyPackage(_newSigner.Sign(Manifest("2.0.1")))));

        // Version 1: the new signer replaces the old one, which is revoked, and scorer may not go below 2.0.0.
        var document = Document(1, threshold: 2, signing: [_newSigner]);
        document.RevokedKeys.Add(_signer.KeyId);
        document.Floors["scorer"] = "2.0.0";
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => device.Apply(TrustCodec.Sign(document, _roots[1]))));
        Assert.True(device.Apply(TrustCodec.Sign(document, _roots[1], _roots[2])));

        var restarted = new DeviceTrust(options, updates, time);
        Assert.Equal(1, restarted.Version);
        Assert.Equal(RejectionReasons.RevokedKey, Refusal(() => restarted.VerifyPackage(_signer.Sign(Manifest("3.0.0")))));
        Assert.Equal("3.0.0", restarted.VerifyPackage(_newSigner.Sign(Manifest("3.0.0"))).Version);
        var replayed = Manifest("1.5.0");
        replayed.Rollback = true;
        Assert.Equal(RejectionReasons.BelowFloor, Refusal(() => restarted.VerifyPackage(_newSigner.Sign(replayed))));
        Assert.False(restarted.Apply(TrustCodec.Sign(document, _roots[1], _roots[2])), "the same version again is not news");

        // A device whose trust expired takes no package until its roots speak again (a freeze attack).
        time.Advance(TimeSpan.FromDays(31));
        Assert.Equal(RejectionReasons.Expired, Refusal(() => restarted.VerifyPackage(_newSigner.Sign(Manifest("3.0.1")))));
    }

    [Fact]
    public void AManifestTamperedAfterSigning_UnderATrustedKeysId_IsABadSignature()
    {
        var trusted = Directory.CreateDirectory(Path.Combine(_folder, "trusted-only")).FullName;
        File.WriteAllText(Path.Combine(trusted, "ops.pub.pem"), _signer.PublicKeyPem());
        var device = new DeviceTrust(new UpdateOptions { TrustedKeys = trusted }, Path.Combine(_folder, "updates-2"), new FakeTimeProvider(Now));
        var signed = _signer.Sign(Manifest("2.0.0"));
        var tampered = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(signed.Manifest)).Replace("2.0.0", "2.0.9", StringComparison.Ordinal);
        signed.Manifest = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(tampered));
        Assert.Equal(RejectionReasons.BadSignature, Refusal(() => device.VerifyPackage(signed)));
    }

    [Fact]
    public void APackage_WithoutAnExpiry_OrWithSizesThatOverflow_IsRefused()
    {
        var agent = SemanticVersion.Parse("1.0.0");
        var unexpiring = Manifest("2.0.0");
        unexpiring.ExpiresAt = null;
        Assert.Equal(RejectionReasons.NoExpiry, Refusal(() => InstallPolicy.Check(unexpiring, null, agent, Now, 1 << 30)));

        var huge = Manifest("2.0.0");
        huge.Files = [File("model", long.MaxValue / 2 + 1), File("golden", long.MaxValue / 2 + 1)];
        Assert.Equal(RejectionReasons.TooLarge, Refusal(() => InstallPolicy.Check(huge, null, agent, Now, 1 << 30)));
        huge.Files = [File("model", long.MaxValue), File("golden", long.MaxValue)];
        Assert.Equal(RejectionReasons.TooLarge, Refusal(() => InstallPolicy.Check(huge, null, agent, Now, long.MaxValue)));

        static PackageFile File(string role, long size) => new() { Role = role, Path = PackageRoles.FileNames[role], Size = size, Sha256 = new string('a', 64) };
    }

    private TrustDocument Document(long version, int threshold = 1, SigningKey[]? roots = null, SigningKey[]? signing = null, DateTimeOffset? expires = null) => new()
    {
        Version = version,
        ExpiresAt = expires ?? Now.AddDays(30),
        Threshold = threshold,
        RootKeys = Pems(roots ?? _roots),
        SigningKeys = Pems(signing ?? [_signer]),
    };

    private static List<string> Pems(IEnumerable<SigningKey> keys) => [.. keys.Select(k => k.PublicKeyPem())];

    private static PackageManifest Manifest(string version) => new()
    {
        Name = "scorer", Version = version, CreatedAt = Now, ExpiresAt = Now.AddDays(90),
        Files = [new PackageFile { Role = PackageRoles.Model, Path = "model.onnx", Size = 10, Sha256 = new string('a', 64) }],
    };

    private static string Refusal(Action action) => Assert.Throws<PackageRejectedException>(action).Reason;

    private static string Refusal(Func<object> action) => Assert.Throws<PackageRejectedException>(() => action()).Reason;
}
