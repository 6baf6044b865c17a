namespace EdgeInference.Runtime.Models;

/// <summary>One entry of the <see cref="OptimizedModelCache"/>: where it lives, and how a new one is written into place.</summary>
public sealed class OptimizedModelEntry
{
    private readonly string _folder;
    private readonly string _prefix;

    internal OptimizedModelEntry(string folder, string prefix, string path)
    {
        _folder = folder;
        _prefix = prefix;
        Path = path;
        Temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
    }

    /// <summary>The optimized model (ORT format).</summary>
    public string Path { get; }

    /// <summary>Where ONNX Runtime writes a new one, before <see cref="Commit"/> renames it into place.</summary>
    public string Temporary { get; }

    public bool Exists => File.Exists(Path);

    /// <summary>Makes the folder for a new entry (owner-only: it describes the device's models), clearing saves a crash cut short.</summary>
    public void Prepare()
    {
        _ = OperatingSystem.IsWindows() ? Directory.CreateDirectory(_folder) : Directory.CreateDirectory(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var abandoned in Directory.EnumerateFiles(_folder, _prefix + "*.tmp"))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(abandoned) > TimeSpan.FromMinutes(10))
            {
                File.Delete(abandoned);
            }
        }
    }

    /// <summary>
    /// Puts the model ONNX Runtime saved at <see cref="Temporary"/> into place with one rename, and removes the entries
    /// older files of the same model version left; false when there is nothing to put.
    /// </summary>
    public bool Commit()
    {
        if (!File.Exists(Temporary))
        {
            return false;
        }

        // On disk before it is in place: a power cut leaves the old entry, or none, never a torn one under the name.
        using (var written = new FileStream(Temporary, FileMode.Open, FileAccess.ReadWrite))
        {
            written.Flush(flushToDisk: true);
        }

        File.Move(Temporary, Path, overwrite: true);
        foreach (var stale in Directory.EnumerateFiles(_folder, _prefix + "*"))
        {
            if (stale != Path && !stale.EndsWith(".tmp", StringComparison.Ordinal))
            {
                File.Delete(stale);
            }
        }

        return true;
    }

    /// <summary>Removes an entry ONNX Runtime could not load, and a temporary one a failed save left.</summary>
    public void Discard()
    {
        File.Delete(Path);
        File.Delete(Temporary);
    }
}
