namespace EdgeInference.Tests.Storage;

/// <summary>
/// A simulated disk for crash tests, after SQLite's crash tests: files keep what was flushed; at the crash
/// every unflushed write is, at random, kept, lost, or torn at a 512-byte boundary, and later writes and
/// flushes never reach the disk (the process is as good as dead).
/// </summary>
public sealed class CrashableDisk
{
    private readonly List<CrashableFile> _files = [];
    private readonly Random _random;
    private readonly long _crashAtWrite;
    private long _writes;
    private volatile bool _crashed;

    public CrashableDisk(int seed, long crashAtWrite)
    {
        _random = new Random(seed);
        _crashAtWrite = crashAtWrite;
    }

    public bool Crashed => _crashed;

    public long Writes => Interlocked.Read(ref _writes);

    public CrashableFile Open(string name, byte[]? contents = null)
    {
        var file = new CrashableFile(this, name, contents ?? []);
        lock (_files)
        {
            _files.Add(file);
        }

        return file;
    }

    /// <summary>Counts a write; the one that reaches the crash point is lost with the power.</summary>
    internal bool BeforeWrite()
    {
        if (_crashed)
        {
            return false;
        }

        if (Interlocked.Increment(ref _writes) >= _crashAtWrite)
        {
            Crash();
            return false;
        }

        return true;
    }

    public void Crash()
    {
        lock (_files)
        {
            if (_crashed)
            {
                return;
            }

            _crashed = true;
            foreach (var file in _files)
            {
                file.LosePower(_random);
            }
        }
    }
}
