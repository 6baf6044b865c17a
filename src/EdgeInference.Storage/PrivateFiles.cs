namespace EdgeInference.Storage;

/// <summary>
/// Files and folders that hold secrets or other people's data (tokens, keys, device credentials, databases with sampled
/// inputs): created owner-only — 0600 files, 0700 folders — by the call that creates them, so no byte is ever readable
/// by others, rather than created with the default mode and narrowed afterwards.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> and any missing parents as 0700 folders (folders that exist keep their mode).</summary>
    public static DirectoryInfo CreateDirectory(string path) =>
        OperatingSystem.IsWindows() ? Directory.CreateDirectory(path) : Directory.CreateDirectory(path, DirectoryMode);

    /// <summary>The options that open or create a file as 0600.</summary>
    public static FileStreamOptions Options(FileMode mode, FileAccess access, FileShare share = FileShare.None, FileOptions options = FileOptions.None, int bufferSize = 4096)
    {
        var result = new FileStreamOptions { Mode = mode, Access = access, Share = share, Options = options, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode != System.IO.FileMode.Open && mode != System.IO.FileMode.Truncate)
        {
            result.UnixCreateMode = FileMode;
        }

        return result;
    }

    /// <summary>Writes a new 0600 file; fails if <paramref name="path"/> exists, so an existing file is never widened or replaced.</summary>
    public static void WriteNew(string path, string contents)
    {
        using var stream = new FileStream(path, Options(System.IO.FileMode.CreateNew, FileAccess.Write));
        using var writer = new StreamWriter(stream);
        writer.Write(contents);
    }
}
