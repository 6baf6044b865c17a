using System.Text.Json;
using EdgeInference.Agent.Commands;
using EdgeInference.Contracts;
using EdgeInference.Packaging;
using EdgeInference.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// Packages brought on local media (<c>edge-agent install PACKAGE.tar</c>): each complete folder of
/// <c>&lt;data&gt;/inbox/</c> (an extracted archive, renamed into place when whole) becomes a deploy command
/// <c>local-&lt;id&gt;</c> for the update loop, which checks and installs it exactly as one from the fleet: signature
/// and policy, the files verified against the signed manifest as they are copied in, staged, tested, switched, on
/// probation. Every reply to it is written to <c>&lt;inbox&gt;/&lt;id&gt;.status.json</c>, which the install command
/// follows; the fleet, which sent no such command, sees the install in the device's status instead.
/// </summary>
public sealed class LocalPackageInbox : BackgroundService
{
    public const string FolderName = "inbox";

    public const string CommandPrefix = "local-";

    public const string StatusSuffix = ".status.json";

    private readonly UpdateService _updates;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<LocalPackageInbox> _logger;
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);

    public LocalPackageInbox(string dataDirectory, UpdateService updates, CommandReporter reporter, TimeSpan interval, TimeProvider time, ILogger<LocalPackageInbox> logger)
    {
        ArgumentNullException.ThrowIfNull(reporter);
        Root = Path.Combine(Path.GetFullPath(dataDirectory), FolderName);
        Directory.CreateDirectory(Root);
        _updates = updates;
        _interval = interval;
        _time = time;
        _logger = logger;
        reporter.Replied += OnReplied;
    }

    public string Root { get; }

    /// <summary>Where the replies to package <paramref name="id"/> of <paramref name="inbox"/> are written.</summary>
    public static string StatusPath(string inbox, string id) => Path.Combine(inbox, id + StatusSuffix);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Scan();
                await Task.Delay(_interval, _time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Queues every complete package folder not queued yet and not finished.</summary>
    internal void Scan()
    {
        foreach (var folder in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            var id = Path.GetFileName(folder);
            if (id.StartsWith('.') || _queued.Contains(id) || Finished(id))
            {
                continue; // still being written, already queued, or done (its folder left by an install that could not remove it)
            }

            _queued.Add(id);
            var command = new CommandMessage { Id = CommandPrefix + id, Command = CommandNames.Deploy };
            try
            {
                var signed = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(folder, PackageArchive.ManifestEntry)), PackageJsonContext.Default.SignedManifest)
                    ?? throw new InvalidDataException($"{PackageArchive.ManifestEntry} is null");
                command.Deploy = new DeployCommand { PackageUrl = "", Package = signed };
                command.Model = ManifestCodec.Parse(Convert.FromBase64String(signed.Manifest)).Name;
            }
            catch (Exception ex) when (ex is IOException or JsonException or InvalidDataException or FormatException or PackageRejectedException)
            {
                // The update loop refuses what it cannot verify; only what it cannot even be given is refused here.
                if (command.Deploy is null)
                {
                    UpdateLog.LocalPackageUnreadable(_logger, id, ex.Message);
                    Write(id, new ReplyMessage { CommandId = command.Id, Command = CommandNames.Deploy, State = ReplyState.Rejected, Reason = RejectionReasons.Malformed, Message = ex.Message, Final = true });
                    continue;
                }
            }

            UpdateLog.LocalPackageQueued(_logger, id, folder, command.Id);
            _updates.EnqueueLocal(command, folder);
        }
    }

    private bool Finished(string id)
    {
        try
        {
            return File.Exists(StatusPath(Root, id))
                && JsonSerializer.Deserialize(File.ReadAllBytes(StatusPath(Root, id)), ContractJsonContext.Default.ReplyMessage) is { Final: true };
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return false;
        }
    }

    private void OnReplied(ReplyMessage reply)
    {
        if (!reply.CommandId.StartsWith(CommandPrefix, StringComparison.Ordinal))
        {
            return;
        }

        var id = reply.CommandId[CommandPrefix.Length..];
        Write(id, reply);
        if (reply.Final)
        {
            try
            {
                Directory.Delete(Path.Combine(Root, id), recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Brought by root and not the agent's to delete: the install command removes it when it sees the end.
            }
        }
    }

    private void Write(string id, ReplyMessage reply)
    {
        if (ManifestCodec.IsValidName(id))
        {
            DurableFiles.WriteAtomically(StatusPath(Root, id), JsonSerializer.SerializeToUtf8Bytes(reply, ContractJsonContext.Default.ReplyMessage));
        }
    }
}
