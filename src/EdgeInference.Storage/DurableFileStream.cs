namespace EdgeInference.Storage;

/// <summary>
/// A file stream whose <see cref="Flush()"/> reaches the disk (fsync), not only the OS cache. LiteDB flushes
/// its log after writing each batch of pages; over this stream that flush is what makes a commit durable.
/// The file is opened exclusively, so two agents cannot share one data directory.
/// </summary>
public sealed class DurableFileStream : Stream
{
    private readonly FileStream _file;
    private bool _disposed;

    public DurableFileStream(string path)
    {
        // Owner-only from its first byte: the databases under this stream hold sampled inputs and device state.
        _file = new FileStream(path, PrivateFiles.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, FileOptions.RandomAccess, bufferSize: 0));
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _file.Length;

    public override long Position
    {
        get => _file.Position;
        set => _file.Position = value;
    }

    public override void Flush() => _file.Flush(flushToDisk: true);

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => _file.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);

    public override void SetLength(long value) => _file.SetLength(value);

    public override void Write(byte[] buffer, int offset, int count) => _file.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => _file.Write(buffer);

    protected override void Dispose(bool disposing)
    {
        // Idempotent: a failed open disposes through the journaled stream that owns this one and again by itself.
        if (disposing && !_disposed)
        {
            _disposed = true;
            _file.Flush(flushToDisk: true);
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
