using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeInference.Testing;

/// <summary>A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly string _directory = TestPaths.NewTempDirectory("certs");

    public TestCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=EdgeInference test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        File.WriteAllText(CaFile, ca.ExportCertificatePem());

        Issue(ca, "CN=127.0.0.1", server: true, ServerCertFile, ServerKeyFile);
        Issue(ca, "CN=edge-device-test", server: false, ClientCertFile, ClientKeyFile);
    }

    public string CaFile => Path.Combine(_directory, "ca.pem");

    public string ServerCertFile => Path.Combine(_directory, "server.pem");

    public string ServerKeyFile => Path.Combine(_directory, "server.key");

    public string ClientCertFile => Path.Combine(_directory, "client.pem");

    public string ClientKeyFile => Path.Combine(_directory, "client.key");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void Issue(X509Certificate2 ca, string subject, bool server, string certFile, string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(29), serial);
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}
