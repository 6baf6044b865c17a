using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using EdgeInference.Packaging;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// Downloads a package's files over HTTP(S): resumable (a <c>.part</c> file continued with a Range request),
/// capped at the signed size, with a timeout on silence and a bounded number of attempts, checked against the
/// signed SHA-256 before it is kept under its hash.
/// </summary>
public sealed class PackageDownloader
{
    private const int ChunkSize = 81920;
    private readonly HttpClient _http;
    private readonly UpdateOptions _options;
    private readonly TimeProvider _time;

    public PackageDownloader(HttpClient http, UpdateOptions options, TimeProvider time)
    {
        _http = http;
        _options = options;
        _time = time;
    }

    /// <summary>Bytes received so far (every attempt), for tests and metrics.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>
    /// Refuses a package URL that is neither https nor http on this machine's loopback: over plain HTTP anyone on the
    /// path reads the download token and can stall or cut the download.
    /// </summary>
    public static void CheckUrl(string? packageUrl)
    {
        if (!Uri.TryCreate(packageUrl, UriKind.Absolute, out var url) || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback)))
        {
            throw new PackageRejectedException(RejectionReasons.Malformed, $"package_url '{packageUrl}' is neither https nor http on this machine's loopback");
        }
    }

    /// <summary>
    /// Returns the path of the complete, verified file. Throws <see cref="PackageRejectedException"/> when the
    /// server sends more than the signed size or other bytes than signed, and <see cref="UpdateFailedException"/>
    /// (<c>download_failed</c>) when every attempt failed.
    /// </summary>
    public async Task<string> DownloadAsync(string packageUrl, PackageFile file, string directory, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        var done = Path.Combine(directory, file.Sha256);
        if (File.Exists(done) && new FileInfo(done).Length == file.Size)
        {
            return done;
        }

        var part = done + ".part";
        var url = $"{packageUrl.TrimEnd('/')}/files/{Uri.EscapeDataString(file.Path)}";
        Exception? last = null;
        for (var attempt = 1; attempt <= _options.DownloadAttempts; attempt++)
        {
            try
            {
                await FetchAsync(url, file, part, token, cancellationToken).ConfigureAwait(false);
                await VerifyAsync(part, file, cancellationToken).ConfigureAwait(false);
                File.Move(part, done, overwrite: true);
                return done;
            }
            catch (PackageRejectedException)
            {
                File.Delete(part); // refused bytes are never kept, nor resumed from
                throw;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
                if (attempt < _options.DownloadAttempts)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250 * (1 << Math.Min(attempt - 1, 5))), _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        throw new UpdateFailedException("download_failed", $"{url}: {_options.DownloadAttempts} attempts failed; the last: {last?.Message}", last);
    }

    /// <summary>
    /// A file of a package brought on local media (<c>edge-agent install</c>): copied from <paramref name="folder"/> into
    /// <paramref name="directory"/> and verified as a downloaded one is, so every step after it is an over-the-air
    /// update's. Throws <see cref="PackageRejectedException"/> when the file is missing, longer or shorter than signed,
    /// or other bytes than signed.
    /// </summary>
    public static async Task<string> CopyLocalAsync(string folder, PackageFile file, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        var done = Path.Combine(directory, file.Sha256);
        if (File.Exists(done) && new FileInfo(done).Length == file.Size)
        {
            return done;
        }

        var source = new FileInfo(Path.Combine(folder, file.Path));
        if (!source.Exists || source.Length != file.Size)
        {
            throw new PackageRejectedException(
                source.Exists && source.Length > file.Size ? RejectionReasons.TooLarge : RejectionReasons.Malformed,
                source.Exists ? $"{file.Path}: {source.Length} bytes in the package; the signed size is {file.Size}" : $"{file.Path}: not in the package");
        }

        var part = done + ".part";
        try
        {
            await using (var from = new FileStream(source.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkSize, FileOptions.Asynchronous))
            await using (var to = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, ChunkSize, FileOptions.Asynchronous))
            {
                await from.CopyToAsync(to, cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            await VerifyAsync(part, file, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            File.Delete(part);
            throw;
        }

        File.Move(part, done, overwrite: true);
        return done;
    }

    private static async Task VerifyAsync(string part, PackageFile file, CancellationToken cancellationToken)
    {
        string hash;
        await using (var stream = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkSize, FileOptions.Asynchronous))
        {
            if (stream.Length != file.Size)
            {
                throw new IOException($"{file.Path}: {stream.Length} of {file.Size} bytes arrived");
            }

            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        if (hash != file.Sha256)
        {
            throw new PackageRejectedException(RejectionReasons.HashMismatch, $"{file.Path}: its SHA-256 is {hash}, the signed manifest says {file.Sha256}");
        }
    }

    private async Task FetchAsync(string url, PackageFile file, string part, string? token, CancellationToken cancellationToken)
    {
        var have = File.Exists(part) ? new FileInfo(part).Length : 0;
        if (have > file.Size)
        {
            File.Delete(part);
            have = 0;
        }

        if (have == file.Size)
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        silence.CancelAfter(_options.DownloadTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, silence.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                File.Delete(part); // the server's file differs from ours: start over
                throw new IOException($"{url}: the server refused to resume at byte {have}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            }

            var resumed = response.StatusCode == HttpStatusCode.PartialContent;
            if (!resumed)
            {
                have = 0;
            }

            if (response.Content.Headers.ContentLength is { } length && have + length > file.Size)
            {
                throw new PackageRejectedException(RejectionReasons.TooLarge, $"{file.Path}: the server offers {have + length} bytes; the signed size is {file.Size}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(silence.Token).ConfigureAwait(false);
            await using var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, ChunkSize, FileOptions.Asynchronous);
            var buffer = new byte[ChunkSize];
            while (true)
            {
                silence.CancelAfter(_options.DownloadTimeout);
                var read = await body.ReadAsync(buffer, silence.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (output.Length + read > file.Size)
                {
                    throw new PackageRejectedException(RejectionReasons.TooLarge, $"{file.Path}: the server sent more than the signed {file.Size} bytes");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), silence.Token).ConfigureAwait(false);
                BytesReceived += read;
            }

            output.Flush(flushToDisk: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{url}: no data for {_options.DownloadTimeout.TotalSeconds:0.#} s");
        }
    }
}
