using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeInference.Storage;

namespace EdgeInference.Fleet.Hosting;

/// <summary>
/// The certificate of the fleet's TLS endpoints (the broker's mqtts listener and HTTPS): the operator's
/// (<c>Fleet:TlsCertificate</c> and <c>Fleet:TlsKey</c>, PEM), or else one the fleet generates on first start and keeps
/// in <c>&lt;data&gt;/tls/</c> (0600) — a self-signed P-256 certificate for localhost, this machine and the hosts of the
/// public URLs. Enrollment hands devices <see cref="TrustAnchorPem"/> to pin, so they trust this fleet and no one else.
/// </summary>
public sealed class FleetCertificate : IDisposable
{
    private static readonly TimeSpan Validity = TimeSpan.FromDays(3650);

    public FleetCertificate(FleetOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.TlsCertificate is { } certificateFile)
        {
            using var loaded = X509Certificate2.CreateFromPemFile(certificateFile, options.TlsKey ?? certificateFile);
            Certificate = Exportable(loaded);
            TrustAnchorPem = options.TlsCaFile is { } ca ? File.ReadAllText(ca) : null;
            return;
        }

        var folder = Path.Combine(Path.GetFullPath(options.Data), "tls");
        var certificatePath = Path.Combine(folder, "fleet.crt.pem");
        var keyPath = Path.Combine(folder, "fleet.key.pem");
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            PrivateFiles.CreateDirectory(folder);
            using var generated = Generate(options, time.GetUtcNow());
            using var key = generated.GetECDsaPrivateKey()!;
            File.Delete(keyPath);
            PrivateFiles.WriteNew(keyPath, key.ExportPkcs8PrivateKeyPem());
            DurableFiles.WriteAtomically(certificatePath, System.Text.Encoding.ASCII.GetBytes(generated.ExportCertificatePem()));
        }

        using (var stored = X509Certificate2.CreateFromPemFile(certificatePath, keyPath))
        {
            Certificate = Exportable(stored);
        }

        TrustAnchorPem = Certificate.ExportCertificatePem();
        Generated = true;
    }

    /// <summary>The certificate with its private key, usable by SslStream.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>What a device pins to trust this fleet: the generated certificate, or <c>Fleet:TlsCaFile</c>'s; null means the system's trust store.</summary>
    public string? TrustAnchorPem { get; }

    /// <summary>Whether the fleet made this certificate itself.</summary>
    public bool Generated { get; }

    public void Dispose() => Certificate.Dispose();

    private static X509Certificate2 Generate(FleetOptions options, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=edge-fleet", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        var dns = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", Environment.MachineName };
        foreach (var url in new[] { options.PublicUrl, options.DeviceMqttUrl })
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
                {
                    if (!IPAddress.IsLoopback(address))
                    {
                        names.AddIpAddress(address);
                    }
                }
                else
                {
                    dns.Add(uri.Host);
                }
            }
        }

        foreach (var name in dns.Where(n => n != "localhost"))
        {
            names.AddDnsName(name);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now + Validity);
    }

    /// <summary>SslStream wants a key it can use on every platform: round-trip through PKCS#12.</summary>
    private static X509Certificate2 Exportable(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
}
