namespace EdgeInference.Tests.Storage;

/// <summary>A memory "disk" file that fails on demand: every write, or every flush, throws as a full or failing disk would.</summary>
public sealed class FailingStream : MemoryStream
{
    public enum Failure
    {
        None,
        Write,
        Flush,
    }

    public Failure Fail { get; set; }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ThrowIf(Failure.Write);
        base.Write(buffer, offset, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIf(Failure.Write);
        base.Write(buffer);
    }

    public override void Flush()
    {
        ThrowIf(Failure.Flush);
        base.Flush();
    }

    private void ThrowIf(Failure failure)
    {
        if (Fail == failure)
        {
            throw new IOException("No space left on device (simulated)");
        }
    }
}
