namespace EdgeInference.Tests.Storage;

/// <summary>A file on a <see cref="CrashableDisk"/>: reads see every write; only flushed writes surely survive a crash.</summary>
public sealed class CrashableFile : Stream
{
    private readonly CrashableDisk _disk;
    private readonly MemoryStream _view = new();
    private readonly List<(long Offset, byte[]? Data, long Length)> _pending = [];
    private readonly Lock _lock = new();
    private byte[] _durable;

    internal CrashableFile(CrashableDisk disk, string name, byte[] contents)
    {
        _disk = disk;
        Name = name;
        _durable = contents;
        _view.Write(contents);
        _view.Position = 0;
    }

    public string Name { get; }

    /// <summary>What the disk holds: after a crash, what survived it.</summary>
    public byte[] DurableBytes
    {
        get
        {
            lock (_lock)
            {
                return _durable.ToArray();
            }
        }
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
                return _view.Length;
            }
        }
    }

    public override long Position
    {
        get
        {
            lock (_lock)
            {
                return _view.Position;
            }
        }

        set
        {
            lock (_lock)
            {
                _view.Position = value;
            }
        }
    }

    public override void Flush()
    {
        lock (_lock)
        {
            if (!_disk.Crashed)
            {
                _durable = _view.ToArray();
                _pending.Clear();
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        lock (_lock)
        {
            return _view.Read(buffer, offset, count);
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        lock (_lock)
        {
            return _view.Seek(offset, origin);
        }
    }

    // After the crash the process still sees its own writes (it has not noticed yet), but none reaches the disk.
    public override void SetLength(long value)
    {
        var reachesDisk = _disk.BeforeWrite();
        lock (_lock)
        {
            _view.SetLength(value);
            if (reachesDisk)
            {
                _pending.Add((-1, null, value));
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        var reachesDisk = _disk.BeforeWrite();
        lock (_lock)
        {
            if (reachesDisk)
            {
                _pending.Add((_view.Position, buffer.AsSpan(offset, count).ToArray(), 0));
            }

            _view.Write(buffer, offset, count);
        }
    }

    /// <summary>Each unflushed write is kept, lost, or torn; what results is what the disk holds.</summary>
    internal void LosePower(Random random)
    {
        lock (_lock)
        {
            using var survivor = new MemoryStream();
            survivor.Write(_durable);
            foreach (var (offset, data, length) in _pending)
            {
                var fate = random.Next(3);
                if (fate == 0)
                {
                    continue; // lost
                }

                if (data is null)
                {
                    survivor.SetLength(length);
                    continue;
                }

                var kept = fate == 1 ? data.Length : random.Next(data.Length / 512 + 1) * 512; // whole, or torn
                if (kept > 0)
                {
                    survivor.Position = offset;
                    survivor.Write(data, 0, Math.Min(kept, data.Length));
                }
            }

            _durable = survivor.ToArray();
            _pending.Clear();
        }
    }
}
