using System.Security.Cryptography;
using System.Text;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Hosting;

/// <summary>Makes and checks secrets: operator and reader tokens, device secrets. Only their SHA-256 is stored.</summary>
public sealed class Credentials
{
    private readonly IFleetStore _store;
    private readonly TimeProvider _time;

    public Credentials(IFleetStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>The credential <paramref name="secret"/> belongs to, or null.</summary>
    public CredentialRecord? Find(string? secret) => string.IsNullOrEmpty(secret) ? null : _store.FindCredential(Hash(secret));

    public void Add(string secret, string role, string subject) =>
        _store.SaveCredential(new CredentialRecord { Hash = Hash(secret), Role = role, Subject = subject, CreatedAt = _time.GetUtcNow() });

    /// <summary>A new secret for <paramref name="deviceId"/>, replacing any earlier one.</summary>
    public string EnrollDevice(string deviceId)
    {
        _store.DeleteCredentials(Roles.Device, deviceId);
        var secret = NewSecret();
        Add(secret, Roles.Device, deviceId);
        return secret;
    }
}
