using System.Net;

namespace EdgeInference.Fleet.Cli;

/// <summary>A file upload that reports the bytes sent, for a progress bar.</summary>
public sealed class ProgressContent : HttpContent
{
    private readonly string _path;
    private readonly Action<long> _progress;

    public ProgressContent(string path, Action<long> progress)
    {
        _path = path;
        _progress = progress;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) => await CopyAsync(stream, CancellationToken.None).ConfigureAwait(false);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) => CopyAsync(stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = new FileInfo(_path).Length;
        return true;
    }

    private async Task CopyAsync(Stream stream, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(_path);
        var buffer = new byte[81920];
        long sent = 0;
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            sent += read;
            _progress(sent);
        }
    }
}
