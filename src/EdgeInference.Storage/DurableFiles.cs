using System.Runtime.InteropServices;

namespace EdgeInference.Storage;

/// <summary>
/// Whole-file writes and renames that survive power loss: data is fsynced before it is renamed into place,
/// and the folder is fsynced after, so a reader sees the old file or the new one, never a torn or lost one.
/// New files are owner-only (<see cref="PrivateFiles"/>).
/// </summary>
public static partial class DurableFiles
{
    private const int ReadOnly = 0;

    /// <summary>
    /// O_DIRECTORY, whose value differs by architecture: 0200000 on x86-64, 040000 on arm64 and arm (where 0200000 is
    /// O_DIRECT, which a folder refuses with EINVAL: found when the arm64 device first installed an update).
    /// </summary>
    private static int Directory => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    /// <summary>Replaces <paramref name="path"/> with <paramref name="contents"/> atomically and durably.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary); // a leftover would keep its own mode: the new file is created 0600
        using (var stream = new FileStream(temporary, PrivateFiles.Options(FileMode.CreateNew, FileAccess.Write)))
        {
            stream.Write(contents);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
    }

    /// <summary>Renames a file or folder (atomic within one file system) and makes the rename durable.</summary>
    public static void Move(string from, string to)
    {
        if (System.IO.Directory.Exists(from))
        {
            System.IO.Directory.Move(from, to);
        }
        else
        {
            File.Move(from, to);
        }

        SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(to))!);
        SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(from))!);
    }

    /// <summary>fsync on a folder, so the names created, renamed or removed in it reach the disk (no-op off Linux).</summary>
    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var descriptor = Open(path, ReadOnly | Directory);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open the folder {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"fsync of the folder {path} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
