using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Storage;

namespace EdgeInference.Fleet.Packages;

/// <summary>
/// Short-lived bearer tokens for one package's files, minted into each deploy command as it is sent: a device never
/// downloads with its MQTT secret, and a token that leaks opens one package for a day at most. A token is
/// <c>dl1.{payload}.{mac}</c>: the package, the device and the expiry, HMAC-SHA256'd with a key of this fleet
/// (<c>&lt;data&gt;/download.key</c>, 0600, made on first start), so checking one needs no lookup.
/// </summary>
public sealed class DownloadTokens
{
    public const string Prefix = "dl1.";

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public DownloadTokens(FleetOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        PrivateFiles.CreateDirectory(options.Data);
        var path = Path.Combine(Path.GetFullPath(options.Data), "download.key");
        if (!File.Exists(path))
        {
            PrivateFiles.WriteNew(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }

        _key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        Lifetime = options.DownloadTokenLifetime;
    }

    /// <summary>How long a token is good for after it is minted.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>A token for <paramref name="deviceId"/> to fetch the files of <paramref name="name"/> <paramref name="version"/>.</summary>
    public string Issue(string name, string version, string deviceId)
    {
        var expires = (_time.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
        var payload = Encoding.UTF8.GetBytes(string.Join('\n', name, version, deviceId, expires.ToString(CultureInfo.InvariantCulture)));
        return Prefix + Base64Url(payload) + "." + Base64Url(HMACSHA256.HashData(_key, payload));
    }

    /// <summary>The token's package and device, or why it is refused.</summary>
    public (string Name, string Version, string DeviceId)? Validate(string token, out string problem)
    {
        ArgumentNullException.ThrowIfNull(token);
        var parts = token.StartsWith(Prefix, StringComparison.Ordinal) ? token[Prefix.Length..].Split('.') : [];
        if (parts.Length != 2 || FromBase64Url(parts[0]) is not { } payload || FromBase64Url(parts[1]) is not { } mac)
        {
            problem = "the download token is malformed";
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(_key, payload)))
        {
            problem = "the download token was not issued by this fleet";
            return null;
        }

        var fields = Encoding.UTF8.GetString(payload).Split('\n');
        if (fields.Length != 4 || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            problem = "the download token is malformed";
            return null;
        }

        if (_time.GetUtcNow().ToUnixTimeSeconds() >= expires)
        {
            problem = $"the download token expired at {DateTimeOffset.FromUnixTimeSeconds(expires):O}";
            return null;
        }

        problem = "";
        return (fields[0], fields[1], fields[2]);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
