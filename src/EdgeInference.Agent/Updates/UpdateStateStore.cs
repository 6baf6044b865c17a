using System.Text.Json;
using EdgeInference.Storage;

namespace EdgeInference.Agent.Updates;

/// <summary>The update records, one file per model under <c>&lt;data&gt;/updates</c>, each replaced atomically and durably.</summary>
public sealed class UpdateStateStore
{
    public UpdateStateStore(string dataDirectory)
    {
        Directory = Path.Combine(Path.GetFullPath(dataDirectory), "updates");
        DownloadsDirectory = Path.Combine(Directory, "downloads");
        System.IO.Directory.CreateDirectory(DownloadsDirectory);
    }

    public string Directory { get; }

    /// <summary>Downloaded files by SHA-256 (<c>.part</c> while incomplete), kept across restarts so downloads resume.</summary>
    public string DownloadsDirectory { get; }

    /// <summary>Every record; an unreadable one is returned in <paramref name="unreadable"/> (path and reason), not thrown.</summary>
    public IReadOnlyList<UpdateRecord> LoadAll(out IReadOnlyList<string> unreadable)
    {
        var records = new List<UpdateRecord>();
        var bad = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllBytes(file), UpdateJsonContext.Default.UpdateRecord) is { } record)
                {
                    records.Add(record);
                }
            }
            catch (JsonException ex)
            {
                bad.Add($"{file}: {ex.Message}");
            }
        }

        unreadable = bad;
        return records;
    }

    public UpdateRecord? Load(string model)
    {
        var file = PathOf(model);
        return File.Exists(file) ? JsonSerializer.Deserialize(File.ReadAllBytes(file), UpdateJsonContext.Default.UpdateRecord) : null;
    }

    public void Save(UpdateRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        DurableFiles.WriteAtomically(PathOf(record.Model), JsonSerializer.SerializeToUtf8Bytes(record, UpdateJsonContext.Default.UpdateRecord));
    }

    private string PathOf(string model) => Path.Combine(Directory, model + ".json");
}
