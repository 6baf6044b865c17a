using System.Globalization;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Configuration;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Storage;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// The file side of an update, arranged so the repository only ever holds complete, verified versions:
/// a package is staged under <c>&lt;models&gt;/.staging</c> (which the repository ignores), fsynced, tested
/// there, and then renamed into place in one step. Versions leave the same way, through <c>.trash</c>.
/// </summary>
public sealed class UpdateInstaller
{
    private readonly ModelRepository _repository;
    private readonly ModelRuntimeContext _context;
    private readonly InstalledPackages _installed;
    private readonly UpdateOptions _options;

    public UpdateInstaller(ModelRepository repository, ModelRuntimeContext context, InstalledPackages installed, UpdateOptions options)
    {
        _repository = repository;
        _context = context;
        _installed = installed;
        _options = options;
        StagingRoot = Path.Combine(installed.Root, ".staging");
        TrashRoot = Path.Combine(installed.Root, ".trash");
    }

    public string StagingRoot { get; }

    public string TrashRoot { get; }

    public InstalledPackages Installed => _installed;

    /// <summary>The repository version a new install of <paramref name="model"/> takes: one above every installed one.</summary>
    public long NextSlot(string model)
    {
        var slots = _installed.Slots(model);
        return slots.Count == 0 ? 1 : slots[^1] + 1;
    }

    /// <summary>Copies the verified files into the staging folder with the manifest and signature, all fsynced.</summary>
    public void Stage(string model, long slot, SignedManifest signed, PackageManifest manifest, IReadOnlyDictionary<string, string> downloaded)
    {
        ArgumentNullException.ThrowIfNull(signed);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(downloaded);
        var directory = StagedPath(model, slot);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        foreach (var file in manifest.Files)
        {
            var target = Path.Combine(directory, PackageRoles.FileNames[file.Role]);
            using (var source = File.OpenRead(downloaded[file.Role]))
            using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
            {
                source.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
        }

        DurableFiles.WriteAtomically(Path.Combine(directory, InstalledPackages.ManifestFileName), Convert.FromBase64String(signed.Manifest));
        DurableFiles.WriteAtomically(
            Path.Combine(directory, InstalledPackages.SignatureFileName),
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(signed, PackageJsonContext.Default.SignedManifest));

        // The staged version loads with the model's own settings (providers, threads, warm-up).
        var config = Path.Combine(_installed.Root, model, ModelConfigReader.FileName);
        var stagedConfig = Path.Combine(StagingRoot, model, ModelConfigReader.FileName);
        if (File.Exists(config))
        {
            File.Copy(config, stagedConfig, overwrite: true);
        }
        else if (File.Exists(stagedConfig))
        {
            File.Delete(stagedConfig);
        }

        DurableFiles.SyncDirectory(directory);
    }

    /// <summary>
    /// Loads the staged version on its own (which warms it up), runs its golden vectors (throwing
    /// <see cref="GoldenFailedException"/> when one fails), then hands the loaded version to
    /// <paramref name="andThen"/> (shadow mode) before unloading it.
    /// </summary>
    public async Task<GoldenOutcome?> TestAsync(
        string model, long slot, PinnedBufferPool pool, Func<ModelVersion, CancellationToken, Task>? andThen, CancellationToken cancellationToken)
    {
        using var staging = new ModelRepository(StagingRoot, _context);
        staging.Reconcile(model, cancellationToken);
        var version = staging.Acquire(model, slot.ToString(CultureInfo.InvariantCulture));
        try
        {
            GoldenOutcome? outcome = null;
            var goldenFile = Path.Combine(StagedPath(model, slot), PackageRoles.FileNames[PackageRoles.Golden]);
            if (File.Exists(goldenFile))
            {
                outcome = await GoldenRunner.RunAsync(version, GoldenRunner.Read(goldenFile), pool, cancellationToken).ConfigureAwait(false);
                if (!outcome.AllPassed)
                {
                    throw new GoldenFailedException(outcome);
                }
            }

            if (andThen is not null)
            {
                await andThen(version, cancellationToken).ConfigureAwait(false);
            }

            return outcome;
        }
        finally
        {
            version.Release();
        }
    }

    /// <summary>Renames the staged version into the repository (one atomic step) and loads it now.</summary>
    public void Switch(string model, long slot)
    {
        Directory.CreateDirectory(Path.Combine(_installed.Root, model));
        DurableFiles.Move(StagedPath(model, slot), SlotPath(model, slot));
        _repository.Reconcile(model);
    }

    /// <summary>Whether <paramref name="slot"/> is loaded and ready.</summary>
    public bool IsReady(string model, long slot) =>
        _repository.Find(model)?.Versions.Any(v => v.Version == slot && v.State == ModelVersionState.Ready) == true;

    /// <summary>The load error of <paramref name="slot"/>, if it failed.</summary>
    public string? LoadError(string model, long slot) => _repository.Find(model)?.Versions.FirstOrDefault(v => v.Version == slot)?.Error;

    /// <summary>Takes <paramref name="slot"/> out of the repository (the version below serves again) and reloads the model.</summary>
    public void Remove(string model, long slot)
    {
        var path = SlotPath(model, slot);
        if (Directory.Exists(path))
        {
            Directory.CreateDirectory(TrashRoot);
            var trash = Path.Combine(TrashRoot, $"{model}-{slot}-{Guid.NewGuid():N}");
            DurableFiles.Move(path, trash);
            _repository.Reconcile(model);
            Directory.Delete(trash, recursive: true);
        }
    }

    /// <summary>Removes all but the <see cref="UpdateOptions.KeepVersions"/> highest versions.</summary>
    public void Prune(string model)
    {
        var slots = _installed.Slots(model);
        foreach (var slot in slots.Take(Math.Max(0, slots.Count - _options.KeepVersions)))
        {
            Remove(model, slot);
        }
    }

    /// <summary>Drops what an interrupted update left in staging and trash.</summary>
    public void CleanUp()
    {
        foreach (var folder in new[] { StagingRoot, TrashRoot })
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    public string StagedPath(string model, long slot) => Path.Combine(StagingRoot, model, slot.ToString(CultureInfo.InvariantCulture));

    private string SlotPath(string model, long slot) => Path.Combine(_installed.Root, model, slot.ToString(CultureInfo.InvariantCulture));
}
