using System.Buffers.Binary;
using System.IO.Hashing;

namespace EdgeInference.Storage;

/// <summary>
/// A file whose content on disk moves atomically from one <see cref="Flush()"/> to the next, whatever a
/// power loss does to unflushed writes (drops them, reorders them, tears them at sector boundaries).
/// Writes stay in memory (in 8 KiB blocks) until a flush, which first writes them to a journal file with a
/// XxHash128 seal and fsyncs it, then applies them to the file and fsyncs it, then empties the journal.
/// Opening replays a sealed journal and discards a torn one. Both streams must fsync on Flush
/// (<see cref="DurableFileStream"/> does). LiteDB's data file runs over this (<see cref="DurableLiteDatabase"/>),
/// so every state a crash can leave is one of LiteDB's own flushes of it.
/// Blocks are reused from flush to flush (up to <see cref="MaxFreeBlocks"/> kept), so a steady stream of
/// commits does not allocate them again each time.
/// </summary>
public sealed class JournaledStream : Stream
{
    private const int BlockSize = 8192;
    private const int SealLength = 16;
    private const long Magic = 0x4C4E524A49444745; // "EDGIJRNL"
    private const int MaxFreeBlocks = 64;
    private readonly Stream _file;
    private readonly Stream _journal;
    private readonly Dictionary<long, byte[]> _dirty = [];
    private readonly List<long> _order = []; // scratch: the dirty blocks to flush, in file order, or to truncate away
    private readonly Stack<byte[]> _free = new();
    private readonly Lock _lock = new(); // LiteDB reads and writes from several threads
    private long _length;
    private long _position;
    private long _fileLimit; // bytes of the file still valid under a pending truncation

    public JournaledStream(Stream file, Stream journal)
    {
        _file = file ?? throw new ArgumentNullException(nameof(file));
        _journal = journal ?? throw new ArgumentNullException(nameof(journal));
        Recover();
        _length = _fileLimit = _file.Length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length
    {
        get
        {
            lock (_lock)
            {
                return _length;
            }
        }
    }

    public override long Position
    {
        get
        {
            lock (_lock)
            {
                return _position;
            }
        }

        set
        {
            lock (_lock)
            {
                _position = value;
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        lock (_lock)
        {
            return ReadLocked(buffer);
        }
    }

    private int ReadLocked(Span<byte> buffer)
    {
        var available = (int)Math.Max(0, Math.Min(buffer.Length, _length - _position));
        var done = 0;
        while (done < available)
        {
            var block = (_position + done) / BlockSize;
            var within = (int)((_position + done) % BlockSize);
            var chunk = Math.Min(available - done, BlockSize - within);
            if (_dirty.TryGetValue(block, out var bytes))
            {
                bytes.AsSpan(within, chunk).CopyTo(buffer[done..]);
            }
            else
            {
                ReadFromFile((block * BlockSize) + within, buffer.Slice(done, chunk));
            }

            done += chunk;
        }

        _position += done;
        return done;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_lock)
        {
            WriteLocked(buffer);
        }
    }

    private void WriteLocked(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var block = _position / BlockSize;
            var within = (int)(_position % BlockSize);
            var chunk = Math.Min(buffer.Length, BlockSize - within);
            if (!_dirty.TryGetValue(block, out var bytes))
            {
                bytes = _free.TryPop(out var reused) ? reused : new byte[BlockSize];
                if (chunk < BlockSize)
                {
                    ReadFromFile(block * BlockSize, bytes);
                }

                _dirty[block] = bytes;
            }

            buffer[..chunk].CopyTo(bytes.AsSpan(within));
            buffer = buffer[chunk..];
            _position += chunk;
            _length = Math.Max(_length, _position);
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        lock (_lock)
        {
            return _position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => _length + offset,
            };
        }
    }

    public override void SetLength(long value)
    {
        lock (_lock)
        {
            SetLengthLocked(value);
        }
    }

    private void SetLengthLocked(long value)
    {
        _length = value;
        _fileLimit = Math.Min(_fileLimit, value);
        var lastBlock = value / BlockSize;
        _order.Clear();
        foreach (var block in _dirty.Keys)
        {
            if (block > lastBlock || (block == lastBlock && value % BlockSize == 0))
            {
                _order.Add(block);
            }
        }

        foreach (var block in _order)
        {
            _dirty.Remove(block, out var bytes);
            Release(bytes!);
        }

        if (_dirty.TryGetValue(lastBlock, out var partial))
        {
            partial.AsSpan((int)(value % BlockSize)).Clear();
        }
    }

    /// <summary>Makes every write so far durable, atomically: journal, fsync, apply, fsync, empty the journal.</summary>
    public override void Flush()
    {
        lock (_lock)
        {
            FlushLocked();
        }
    }

    private void FlushLocked()
    {
        if (_dirty.Count == 0 && _length == _file.Length)
        {
            return;
        }

        _order.Clear();
        _order.AddRange(_dirty.Keys);
        _order.Sort();
        WriteJournal();
        ApplyDirty(_length);
        foreach (var bytes in _dirty.Values)
        {
            Release(bytes);
        }

        _dirty.Clear();
        _fileLimit = _length;
        _journal.SetLength(0);
        _journal.Flush();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _journal.Dispose();
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Release(byte[] block)
    {
        if (_free.Count < MaxFreeBlocks)
        {
            _free.Push(block);
        }
    }

    private void ReadFromFile(long offset, Span<byte> target)
    {
        target.Clear();
        if (offset >= _fileLimit)
        {
            return;
        }

        target = target[..(int)Math.Min(target.Length, _fileLimit - offset)];
        _file.Position = offset;
        var read = 0;
        int n;
        while (read < target.Length && (n = _file.Read(target[read..])) > 0)
        {
            read += n;
        }
    }

    // Journal: magic, new length, block count, then (block index, 8 KiB) per block, then XxHash128 of all before it.
    private void WriteJournal()
    {
        var hash = new XxHash128();
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], _length);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], _dirty.Count);
        _journal.SetLength(0);
        _journal.Position = 0;
        _journal.Write(header);
        hash.Append(header);
        Span<byte> index = stackalloc byte[8];
        foreach (var block in _order)
        {
            var bytes = _dirty[block];
            BinaryPrimitives.WriteInt64LittleEndian(index, block);
            _journal.Write(index);
            _journal.Write(bytes);
            hash.Append(index);
            hash.Append(bytes);
        }

        _journal.Write(hash.GetCurrentHash());
        _journal.Flush();
    }

    /// <summary>Writes the dirty blocks, in <see cref="_order"/>, and the new length to the file, and fsyncs it.</summary>
    private void ApplyDirty(long length)
    {
        foreach (var block in _order)
        {
            var bytes = _dirty[block];
            var offset = block * BlockSize;
            var count = (int)Math.Min(BlockSize, Math.Max(0, length - offset));
            if (count > 0)
            {
                _file.Position = offset;
                _file.Write(bytes, 0, count);
            }
        }

        _file.SetLength(length);
        _file.Flush();
    }

    /// <summary>Replays a sealed journal left by a crash between its fsync and the end of the flush; drops a torn one.</summary>
    private void Recover()
    {
        if (_journal.Length == 0)
        {
            return;
        }

        var content = new byte[_journal.Length];
        _journal.Position = 0;
        _journal.ReadExactly(content);
        if (TryParseJournal(content, out var length, out var blocks))
        {
            _order.Clear();
            foreach (var (block, bytes) in blocks)
            {
                _dirty[block] = bytes;
                _order.Add(block);
            }

            ApplyDirty(length);
            _dirty.Clear();
        }

        _journal.SetLength(0);
        _journal.Flush();
    }

    private static bool TryParseJournal(byte[] content, out long length, out List<(long, byte[])> blocks)
    {
        blocks = [];
        length = 0;
        if (content.Length < 24 + SealLength || BinaryPrimitives.ReadInt64LittleEndian(content) != Magic)
        {
            return false;
        }

        length = BinaryPrimitives.ReadInt64LittleEndian(content.AsSpan(8));
        var count = BinaryPrimitives.ReadInt64LittleEndian(content.AsSpan(16));
        var body = 24 + (count * (8 + BlockSize));
        if (count < 0 || length < 0 || content.Length != body + SealLength
            || !XxHash128.Hash(content.AsSpan(0, (int)body)).AsSpan().SequenceEqual(content.AsSpan((int)body)))
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            var at = 24 + (i * (8 + BlockSize));
            blocks.Add((BinaryPrimitives.ReadInt64LittleEndian(content.AsSpan(at)), content.AsSpan(at + 8, BlockSize).ToArray()));
        }

        return true;
    }
}
