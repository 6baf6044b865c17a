using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace EdgeInference.Agent.Cloud;

/// <summary>
/// The certificate authority the fleet's broker and package server are checked against: <c>Mqtt:CaPem</c> (the pinned
/// certificate from enrollment) or <c>Mqtt:CaFile</c>; without either, the system's trust store. The same anchor checks
/// the MQTT link and HTTPS package downloads, so a device enrolled with a fleet's own certificate trusts that fleet only.
/// </summary>
public static class FleetTrust
{
    /// <summary>The configured anchors, or null for the system's trust store.</summary>
    public static X509Certificate2Collection? Anchors(MqttOptions? options)
    {
        if (options?.CaPem is { Length: > 0 } pem)
        {
            var anchors = new X509Certificate2Collection();
            anchors.ImportFromPem(pem);
            return anchors;
        }

        if (options?.CaFile is { } file)
        {
            var anchors = new X509Certificate2Collection();
            anchors.ImportFromPemFile(file);
            return anchors;
        }

        return null;
    }

    /// <summary>Checks a server certificate against <paramref name="anchors"/> only (custom root trust), and its name.</summary>
    public static bool Validate(X509Certificate2Collection anchors, X509Certificate? certificate, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = new X509Certificate2(certificate);
        return chain.Build(server);
    }

    /// <summary>An HTTP handler for package downloads that trusts <paramref name="options"/>' anchors, if any.</summary>
    public static SocketsHttpHandler DownloadHandler(MqttOptions? options)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        if (Anchors(options) is { } anchors)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(anchors, certificate, errors);
        }

        return handler;
    }
}
