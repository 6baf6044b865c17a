using System.Formats.Tar;
using System.Text.Json;

namespace EdgeInference.Packaging;

/// <summary>
/// A package on local media (a USB stick, a field laptop): a tar of its signed manifest (<see cref="ManifestEntry"/>)
/// and its files under their manifest names, as <c>edgefleet models export</c> writes it and <c>edge-agent install</c>
/// reads it. Reading takes regular files only, by the names a package may hold, once each, up to a size; whether the
/// manifest is signed by a trusted key and the files are what it says is the device's update check, as for any deploy.
/// </summary>
public static class PackageArchive
{
    public const string ManifestEntry = "package.json";

    /// <summary>Writes the archive of <paramref name="signed"/> with the files of its manifest, read from <paramref name="folder"/>.</summary>
    public static async Task WriteAsync(Stream destination, SignedManifest signed, string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var manifest = ManifestCodec.Parse(Convert.FromBase64String(signed.Manifest));
        var writer = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);
        await using (writer.ConfigureAwait(false))
        {
            using var json = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(signed, PackageJsonContext.Default.SignedManifest));
            await writer.WriteEntryAsync(Entry(ManifestEntry, json), cancellationToken).ConfigureAwait(false);
            foreach (var file in manifest.Files)
            {
                var data = new FileStream(Path.Combine(folder, file.Path), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
                await using (data.ConfigureAwait(false))
                {
                    await writer.WriteEntryAsync(Entry(file.Path, data), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Extracts the archive into <paramref name="folder"/> (made here; it must not exist) and returns its signed manifest.
    /// Throws <see cref="InvalidDataException"/> naming what is wrong: an entry that is not a file, a name no package
    /// holds, a file twice, more than <paramref name="maxBytes"/>, no manifest, or a file the manifest lists missing or of
    /// another size.
    /// </summary>
    public static async Task<SignedManifest> ExtractAsync(Stream source, string folder, long maxBytes, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(PackageRoles.FileNames.Values, StringComparer.Ordinal) { ManifestEntry };
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(folder))!);
        Directory.CreateDirectory(folder);
        var reader = new TarReader(source, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            long total = 0;
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw new InvalidDataException($"'{entry.Name}' is a {entry.EntryType} entry; a package archive holds files only");
                }

                if (!names.Contains(entry.Name))
                {
                    throw new InvalidDataException($"'{entry.Name}' is not a file a package holds ({string.Join(", ", names.Order(StringComparer.Ordinal))})");
                }

                if (!sizes.TryAdd(entry.Name, entry.Length))
                {
                    throw new InvalidDataException($"'{entry.Name}' is in the archive twice");
                }

                total += entry.Length;
                if (total > maxBytes)
                {
                    throw new InvalidDataException($"the archive holds more than {maxBytes} bytes");
                }

                var target = new FileStream(Path.Combine(folder, entry.Name), FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
                await using (target.ConfigureAwait(false))
                {
                    if (entry.DataStream is { } data)
                    {
                        await data.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
                    }

                    target.Flush(flushToDisk: true);
                }
            }
        }

        if (!sizes.ContainsKey(ManifestEntry))
        {
            throw new InvalidDataException($"the archive has no {ManifestEntry} (the signed manifest)");
        }

        SignedManifest signed;
        PackageManifest manifest;
        try
        {
            signed = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(folder, ManifestEntry), cancellationToken).ConfigureAwait(false), PackageJsonContext.Default.SignedManifest)
                ?? throw new InvalidDataException($"{ManifestEntry} is null");
            manifest = ManifestCodec.Parse(Convert.FromBase64String(signed.Manifest));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or PackageRejectedException)
        {
            throw new InvalidDataException($"{ManifestEntry}: {ex.Message}", ex);
        }

        foreach (var file in manifest.Files)
        {
            if (!sizes.TryGetValue(file.Path, out var size) || size != file.Size)
            {
                throw new InvalidDataException(sizes.ContainsKey(file.Path)
                    ? $"{file.Path} is {size} bytes; the signed manifest says {file.Size}"
                    : $"{file.Path} is listed in the manifest but not in the archive");
            }
        }

        return signed;
    }

    private static PaxTarEntry Entry(string name, Stream data) =>
        new(TarEntryType.RegularFile, name) { DataStream = data, ModificationTime = DateTimeOffset.UnixEpoch, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
}
