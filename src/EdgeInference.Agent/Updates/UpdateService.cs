using System.Threading.Channels;
using EdgeInference.Agent.Commands;
using EdgeInference.Agent.Shadow;
using EdgeInference.Contracts;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// The update loop. One command at a time from its queue: a deploy is verified (signature, expiry, agent
/// version, size, anti-rollback) before anything is downloaded, then downloaded, staged, tested (warm-up and
/// golden vectors) and switched in one rename. A switched version is on probation; it is confirmed when the
/// agent stays up through <see cref="UpdateOptions.ProbationPeriod"/>, and rolled back by <see cref="Recover"/>
/// when the agent keeps restarting instead. Every step is saved before it is reported.
/// <para>
/// A package's download must finish within <see cref="UpdateOptions.DownloadDeadline"/>, and a rollback or a newer
/// deploy of the same model preempts it, so a slow or hostile server cannot hold back every later command.
/// </para>
/// </summary>
public sealed class UpdateService : BackgroundService
{
    /// <summary>Live requests copied ahead of the shadowing version; more are skipped rather than queued.</summary>
    private const int ShadowBacklog = 16;

    private readonly Channel<(CommandMessage Command, string? LocalPackage)> _queue = Channel.CreateBounded<(CommandMessage, string?)>(new BoundedChannelOptions(64) { SingleReader = true });
    private readonly Dictionary<string, (UpdateRecord Record, DateTimeOffset Until)> _probation = new(StringComparer.Ordinal);
    private readonly UpdateInstaller _installer;
    private readonly UpdateStateStore _store;
    private readonly PackageDownloader _downloader;
    private readonly CommandReporter _reporter;
    private readonly ModelRepository _repository;
    private readonly PinnedBufferPool _pool;
    private readonly ShadowTap _shadow;
    private readonly UpdateOptions _options;
    private readonly string _agentVersion;
    private readonly TimeProvider _time;
    private readonly ILogger<UpdateService> _logger;
    private readonly DeviceTrust _trust;
    private readonly Lock _downloadLock = new();
    private ActiveDownload? _download;

    public UpdateService(
        UpdateInstaller installer, UpdateStateStore store, PackageDownloader downloader, CommandReporter reporter, ModelRepository repository,
        PinnedBufferPool pool, ShadowTap shadow, UpdateOptions options, DeviceTrust trust, string agentVersion, TimeProvider time, ILogger<UpdateService> logger)
    {
        _trust = trust;
        _installer = installer;
        _store = store;
        _downloader = downloader;
        _reporter = reporter;
        _repository = repository;
        _pool = pool;
        _shadow = shadow;
        _options = options;
        _agentVersion = agentVersion;
        _time = time;
        _logger = logger;
    }

    /// <summary>Queues a command; a rollback or another deploy of the model being downloaded preempts that download.</summary>
    public bool Enqueue(CommandMessage command)
    {
        ArgumentNullException.ThrowIfNull(command);
        lock (_downloadLock)
        {
            if (_download is { } active && command.Model == active.Model && command.Id != active.CommandId
                && command.Command is CommandNames.Rollback or CommandNames.Deploy)
            {
                active.PreemptedBy = $"{command.Command} {command.Id}";
                active.Cancel.Cancel();
            }
        }

        return _queue.Writer.TryWrite((command, null));
    }

    /// <summary>
    /// Queues the deploy of a package brought on local media, in <paramref name="folder"/> (<see cref="LocalPackageInbox"/>):
    /// the same checks and steps as an over-the-air deploy, its files read from the folder instead of downloaded.
    /// </summary>
    public bool EnqueueLocal(CommandMessage command, string folder)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        return _queue.Writer.TryWrite((command, folder));
    }

    /// <summary>
    /// Runs before the repository first loads: clears what an interrupted update left in staging, counts this
    /// start against a version on probation, and rolls it back when the agent is crash-looping on it.
    /// </summary>
    public void Recover()
    {
        _installer.CleanUp();
        var records = _store.LoadAll(out var unreadable);
        if (unreadable.Count > 0)
        {
            UpdateLog.RecordsUnreadable(_logger, string.Join("; ", unreadable));
        }

        foreach (var record in records)
        {
            var installed = _installer.Installed.Slots(record.Model).Contains(record.Slot);
            var holdsVersion = _installer.Installed.VersionOf(record.Model, record.Slot) == record.Version;
            if (UpdateStateMachine.Next(record, new UpdateEvent.AgentStarted(_time.GetUtcNow(), installed, holdsVersion), _options) is not { } next)
            {
                continue;
            }

            UpdateLog.Resuming(_logger, record.CommandId, record.Model, record.Version, UpdatePhase.Switched, next.StartsSinceSwitch);
            var from = record.Version;
            if (Apply(record, next) is { } reply)
            {
                UpdateLog.RolledBack(_logger, record.Model, from, _installer.Installed.ServingVersionText(record.Model) ?? "none", next.Reason ?? "?");
                _reporter.Reply(reply);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            foreach (var record in _store.LoadAll(out _))
            {
                if (record.Phase == UpdatePhase.Downloading)
                {
                    await RunAsync(ResumeCommand(record), record.LocalPackage, stoppingToken).ConfigureAwait(false);
                }
                else if (record.Phase == UpdatePhase.Switched)
                {
                    _probation[record.Model] = (record, _time.GetUtcNow() + _options.ProbationPeriod);
                }
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                var tick = Task.Delay(TimeSpan.FromMilliseconds(250), _time, stoppingToken);
                var ready = _queue.Reader.WaitToReadAsync(stoppingToken).AsTask();
                await Task.WhenAny(tick, ready).ConfigureAwait(false);
                while (_queue.Reader.TryRead(out var queued))
                {
                    await RunAsync(queued.Command, queued.LocalPackage, stoppingToken).ConfigureAwait(false);
                }

                await ConfirmDueAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static CommandMessage ResumeCommand(UpdateRecord record) => new()
    {
        Id = record.CommandId,
        Command = CommandNames.Deploy,
        Model = record.Model,
        Deploy = new DeployCommand
        {
            PackageUrl = record.PackageUrl, Package = record.Package, DownloadToken = record.DownloadToken,
            ShadowRequests = record.ShadowRequestsWanted, ShadowSeconds = record.ShadowSeconds, ShadowTolerance = record.ShadowTolerance,
        },
    };

    private async Task RunAsync(CommandMessage command, string? localPackage, CancellationToken cancellationToken)
    {
        try
        {
            switch (command.Command)
            {
                case CommandNames.Deploy:
                    await DeployAsync(command, localPackage, cancellationToken).ConfigureAwait(false);
                    break;
                case CommandNames.Rollback:
                    await RollBackAsync(command, cancellationToken).ConfigureAwait(false);
                    break;
                case CommandNames.Trust:
                    await TrustAsync(command, cancellationToken).ConfigureAwait(false);
                    break;
                case CommandNames.Reload:
                    _repository.Reconcile(cancellationToken);
                    await _reporter.ReplyAsync(new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Succeeded, Final = true }, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The loop boundary: one command's failure is reported and the next command runs.
            UpdateLog.CommandCrashed(_logger, command.Id, ex);
            await _reporter.ReplyAsync(
                new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Failed, Reason = "internal_error", Message = ex.Message, Model = command.Model, Final = true },
                cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeployAsync(CommandMessage command, string? localPackage, CancellationToken cancellationToken)
    {
        var existing = command.Model is { } named && ManifestCodec.IsValidName(named) ? _store.Load(named) : null;
        if (existing is not null && existing.CommandId == command.Id && UpdateStateMachine.Next(existing, new UpdateEvent.CommandRepeated(), _options) is { } repeat)
        {
            // A repeated command (the fleet resends until it hears back): say again where it stands.
            await _reporter.ReplyAsync(Apply(existing, repeat)!, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (command.Deploy is not { } deploy)
        {
            await RejectAsync(command, null, RejectionReasons.Malformed, "a deploy command needs 'deploy' with the package", cancellationToken).ConfigureAwait(false);
            return;
        }

        PackageManifest manifest;
        try
        {
            if (deploy.Trust is { } trust)
            {
                TakeTrust(command.Id, trust);
            }

            manifest = _trust.VerifyPackage(deploy.Package);
            if (command.Model is { } model && model != manifest.Name)
            {
                throw new PackageRejectedException(RejectionReasons.Malformed, $"the command is for model '{model}' but the package is '{manifest.Name}'");
            }

            if (localPackage is null)
            {
                PackageDownloader.CheckUrl(deploy.PackageUrl);
            }

            if (deploy.ShadowProblem() is { } shadowProblem)
            {
                throw new PackageRejectedException(RejectionReasons.Malformed, shadowProblem);
            }

            var installed = _installer.Installed.ServingVersion(manifest.Name);
            if (existing is null || existing.CommandId != command.Id)
            {
                if (installed is not null && installed.Equals(SemanticVersion.Parse(manifest.Version)))
                {
                    await _reporter.ReplyAsync(
                        new ReplyMessage
                        {
                            CommandId = command.Id, Command = CommandNames.Deploy, State = ReplyState.Succeeded, Model = manifest.Name, Version = manifest.Version,
                            ServingVersion = manifest.Version, Message = "already installed", Final = true,
                        },
                        cancellationToken).ConfigureAwait(false);
                    return;
                }

                InstallPolicy.Check(manifest, installed, SemanticVersion.Parse(_agentVersion), _time.GetUtcNow(), _options.MaxPackageBytes);
            }
        }
        catch (PackageRejectedException ex)
        {
            await RejectAsync(command, null, ex.Reason, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (existing is not null && existing.CommandId == command.Id && deploy.DownloadToken is { } fresh)
        {
            existing.DownloadToken = fresh; // a resent command carries a fresh token
        }

        var record = existing is not null && existing.CommandId == command.Id ? existing : new UpdateRecord
        {
            CommandId = command.Id,
            Model = manifest.Name,
            Version = manifest.Version,
            Slot = _installer.NextSlot(manifest.Name),
            PackageUrl = deploy.PackageUrl,
            LocalPackage = localPackage,
            Package = deploy.Package,
            DownloadToken = deploy.DownloadToken,
            ShadowRequestsWanted = deploy.ShadowRequests,
            ShadowSeconds = deploy.ShadowSeconds,
            ShadowTolerance = deploy.ShadowTolerance,
        };
        await StepAsync(record, UpdateStep.Download, cancellationToken).ConfigureAwait(false);
        try
        {
            await HoldAsync("download", cancellationToken).ConfigureAwait(false);
            var downloaded = await DownloadAsync(record, manifest, deploy, cancellationToken).ConfigureAwait(false);

            await StepAsync(record, UpdateStep.Stage, cancellationToken).ConfigureAwait(false);
            _installer.Stage(record.Model, record.Slot, deploy.Package, manifest, downloaded);
            await HoldAsync("stage", cancellationToken).ConfigureAwait(false);
            await StepAsync(record, UpdateStep.Test, cancellationToken).ConfigureAwait(false);
            var shadow = record.ShadowRequestsWanted > 0 ? (candidate, token) => ShadowAsync(record, candidate, token) : (Func<ModelVersion, CancellationToken, Task>?)null;
            var golden = await _installer.TestAsync(record.Model, record.Slot, _pool, shadow, cancellationToken).ConfigureAwait(false);
            record.GoldenPassed = golden?.Passed;
            record.GoldenTotal = golden?.Total;
            // Saved before the switch: a crash between the switch and the next save must not lose what the test proved.
            _store.Save(record);
        }
        catch (PackageRejectedException ex)
        {
            await FailAsync(record, ReplyState.Rejected, ex.Reason, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (GoldenFailedException ex)
        {
            record.GoldenPassed = ex.Outcome.Passed;
            record.GoldenTotal = ex.Outcome.Total;
            await FailAsync(record, ReplyState.Failed, "golden_failed", ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (InferenceException ex)
        {
            await FailAsync(record, ReplyState.Failed, "load_failed", ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (UpdateFailedException ex)
        {
            await FailAsync(record, ReplyState.Failed, ex.Reason, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        await HoldAsync("test", cancellationToken).ConfigureAwait(false);
        _installer.Switch(record.Model, record.Slot);
        await HoldAsync("switch", cancellationToken).ConfigureAwait(false);
        var loadError = _installer.IsReady(record.Model, record.Slot) ? null : _installer.LoadError(record.Model, record.Slot) ?? "it did not become ready";
        var switched = UpdateStateMachine.Next(record, new UpdateEvent.Switched(_time.GetUtcNow(), loadError), _options)!;
        var reply = Apply(record, switched)!;
        if (switched.Effects.HasFlag(UpdateEffects.WatchProbation))
        {
            UpdateLog.Step(_logger, record.CommandId, record.Model, record.Version, UpdateStep.Switch);
        }

        await _reporter.ReplyAsync(reply, cancellationToken).ConfigureAwait(false);
        if (switched.Effects.HasFlag(UpdateEffects.WatchProbation))
        {
            await HoldAsync("probation", cancellationToken).ConfigureAwait(false);
            _probation[record.Model] = (record, _time.GetUtcNow() + _options.ProbationPeriod);
            await ConfirmDueAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Shadow mode: the staged version replays copies of the model's live requests (it serves none of them)
    /// until it has seen the requested number or the time is up, and the agreement is kept for the replies.
    /// </summary>
    private async Task ShadowAsync(UpdateRecord record, ModelVersion candidate, CancellationToken cancellationToken)
    {
        await StepAsync(record, UpdateStep.Shadow, cancellationToken).ConfigureAwait(false);
        var feed = _shadow.Open(record.Model, ShadowBacklog);
        try
        {
            var outcome = await ShadowRunner.RunAsync(
                candidate, feed, record.ShadowRequestsWanted, TimeSpan.FromSeconds(record.ShadowSeconds), record.ShadowTolerance, _time, cancellationToken).ConfigureAwait(false);
            record.ShadowRequests = outcome.Compared;
            record.ShadowAgreement = outcome.Agreement is { } agreement ? Math.Round(agreement, 4) : null;
            UpdateLog.Shadowed(_logger, record.CommandId, record.Model, record.Version, outcome.Compared, outcome.Agreement ?? double.NaN, outcome.Skipped, outcome.FirstDisagreement ?? "none");
        }
        finally
        {
            _shadow.Close(feed);
        }
    }

    /// <summary>The crash tests' fault injection point (<see cref="UpdateOptions.HoldAt"/>).</summary>
    private async Task HoldAsync(string point, CancellationToken cancellationToken)
    {
        if (_options.HoldAt == point)
        {
            UpdateLog.Holding(_logger, point);
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ConfirmDueAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var (model, (record, until)) in _probation.ToArray())
        {
            if (now < until)
            {
                continue;
            }

            _probation.Remove(model);
            var loadError = _installer.IsReady(model, record.Slot) ? null : _installer.LoadError(model, record.Slot) ?? "it is no longer ready";
            if (UpdateStateMachine.Next(record, new UpdateEvent.ProbationOver(loadError), _options) is not { } over)
            {
                continue;
            }

            var reply = Apply(record, over)!;
            if (over.Phase == UpdatePhase.Confirmed)
            {
                UpdateLog.Confirmed(_logger, record.CommandId, model, record.Version);
            }

            await _reporter.ReplyAsync(reply, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RollBackAsync(CommandMessage command, CancellationToken cancellationToken)
    {
        var model = command.Model;
        if (model is null || !ManifestCodec.IsValidName(model))
        {
            await RejectAsync(command, null, RejectionReasons.Malformed, "a rollback command needs the model", cancellationToken).ConfigureAwait(false);
            return;
        }

        var slots = _installer.Installed.Slots(model);
        var serving = _installer.Installed.ServingVersionText(model);
        if (command.ToVersion is { } target && serving is not null && SemanticVersion.TryParse(target, out var to)
            && SemanticVersion.TryParse(serving, out var current) && current.CompareTo(to) <= 0)
        {
            await _reporter.ReplyAsync(
                new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Succeeded, Model = model, ServingVersion = serving, Message = $"already at {serving}", Final = true },
                cancellationToken).ConfigureAwait(false);
            return;
        }

        if (slots.Count < 2)
        {
            await _reporter.ReplyAsync(
                new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Failed, Reason = "no_previous_version", Model = model, ServingVersion = serving, Message = $"{model} has no earlier version installed to return to", Final = true },
                cancellationToken).ConfigureAwait(false);
            return;
        }

        _installer.Remove(model, slots[^1]);
        _probation.Remove(model);
        if (_store.Load(model) is { } record && record.Slot == slots[^1] && UpdateStateMachine.Next(record, new UpdateEvent.RolledBackOnCommand(command.Reason), _options) is { } rolledBack)
        {
            Apply(record, rolledBack);
        }

        var now = _installer.Installed.ServingVersionText(model);
        UpdateLog.RolledBack(_logger, model, serving ?? slots[^1].ToString(System.Globalization.CultureInfo.InvariantCulture), now ?? "none", command.Reason ?? "command");
        await _reporter.ReplyAsync(
            new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Succeeded, Model = model, Version = serving, ServingVersion = now, Reason = command.Reason, Final = true },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads every file of the package within the deadline, unless a later command preempts it.</summary>
    private async Task<Dictionary<string, string>> DownloadAsync(UpdateRecord record, PackageManifest manifest, DeployCommand deploy, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.DownloadDeadline, _time);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var active = new ActiveDownload(record.Model, record.CommandId, cancel);
        lock (_downloadLock)
        {
            _download = active;
        }

        try
        {
            var downloaded = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var file in manifest.Files)
            {
                downloaded[file.Role] = record.LocalPackage is { } folder
                    ? await PackageDownloader.CopyLocalAsync(folder, file, _store.DownloadsDirectory, cancel.Token).ConfigureAwait(false)
                    : await _downloader.DownloadAsync(deploy.PackageUrl, file, _store.DownloadsDirectory, deploy.DownloadToken, cancel.Token).ConfigureAwait(false);
            }

            return downloaded;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw active.PreemptedBy is { } by
                ? new UpdateFailedException("preempted", $"the download of {record.Version} was given up for {by}")
                : new UpdateFailedException("download_failed", $"the download of {record.Version} did not finish within its deadline of {_options.DownloadDeadline}");
        }
        finally
        {
            lock (_downloadLock)
            {
                _download = null;
            }
        }
    }

    /// <summary>A <c>trust</c> command: the device takes the document if it is a valid successor of its own, and says which version it holds.</summary>
    private async Task TrustAsync(CommandMessage command, CancellationToken cancellationToken)
    {
        if (command.Trust is not { } signed)
        {
            await RejectAsync(command, null, RejectionReasons.Malformed, "a trust command needs 'trust', the signed document", cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            var taken = _trust.Apply(signed);
            UpdateLog.TrustTaken(_logger, command.Id, _trust.Version, taken);
            await _reporter.ReplyAsync(
                new ReplyMessage
                {
                    CommandId = command.Id, Command = command.Command, State = ReplyState.Succeeded, Version = _trust.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Message = taken ? $"trust version {_trust.Version} taken" : $"trust version {_trust.Version} already held", Final = true,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (PackageRejectedException ex)
        {
            await RejectAsync(command, null, ex.Reason, ex.Message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the trust document a deploy carries when it is newer; one the device cannot take is logged, and the package is judged by what it trusts.</summary>
    private void TakeTrust(string commandId, SignedTrust trust)
    {
        try
        {
            if (_trust.Apply(trust))
            {
                UpdateLog.TrustTaken(_logger, commandId, _trust.Version, true);
            }
        }
        catch (PackageRejectedException ex) when (ex.Reason != RejectionReasons.TrustRollback)
        {
            UpdateLog.TrustRefused(_logger, commandId, ex.Reason, ex.Message);
        }
        catch (PackageRejectedException)
        {
            // An older document than the one held: nothing to take.
        }
    }

    private async Task StepAsync(UpdateRecord record, UpdateStep step, CancellationToken cancellationToken)
    {
        record.UpdatedAt = _time.GetUtcNow();
        _store.Save(record);
        UpdateLog.Step(_logger, record.CommandId, record.Model, record.Version, step);
        await _reporter.ReplyAsync(Reply(record, ReplyState.Progress, step, final: false), cancellationToken).ConfigureAwait(false);
    }

    private async Task FailAsync(UpdateRecord record, ReplyState state, string reason, string message, CancellationToken cancellationToken)
    {
        if (state == ReplyState.Rejected)
        {
            UpdateLog.Refused(_logger, record.CommandId, record.Model, record.Version, reason, message);
        }
        else
        {
            UpdateLog.Failed(_logger, record.CommandId, record.Model, record.Version, reason, message);
        }

        if (UpdateStateMachine.Next(record, new UpdateEvent.StepFailed(state, reason, message), _options) is { } failed && Apply(record, failed) is { } reply)
        {
            await _reporter.ReplyAsync(reply, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task RejectAsync(CommandMessage command, string? version, string reason, string message, CancellationToken cancellationToken)
    {
        UpdateLog.Refused(_logger, command.Id, command.Model ?? "?", version ?? "?", reason, message);
        return _reporter.ReplyAsync(
            new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Rejected, Reason = reason, Message = message, Model = command.Model, Version = version, Final = true },
            cancellationToken);
    }

    /// <summary>
    /// Carries out a decision of <see cref="UpdateStateMachine"/>: what undoes the install first, then the save, then
    /// pruning; returns the reply to send, if any (the caller sends it: persist, then report).
    /// </summary>
    private ReplyMessage? Apply(UpdateRecord record, UpdateTransition transition)
    {
        if (transition.Effects.HasFlag(UpdateEffects.RemoveVersion))
        {
            _installer.Remove(record.Model, record.Slot);
        }

        if (transition.Effects.HasFlag(UpdateEffects.DeleteStaged) && _installer.StagedPath(record.Model, record.Slot) is var staged && Directory.Exists(staged))
        {
            Directory.Delete(staged, recursive: true);
        }

        if (transition.Saves)
        {
            transition.ApplyTo(record, _time.GetUtcNow());
            _store.Save(record);
        }

        if (transition.Effects.HasFlag(UpdateEffects.Prune))
        {
            _installer.Prune(record.Model);
        }

        return transition.Reply is { } state ? Reply(record, state, transition.Step, transition.Final) : null;
    }

    private ReplyMessage Reply(UpdateRecord record, ReplyState state, UpdateStep? step, bool final) => new()
    {
        CommandId = record.CommandId,
        Command = CommandNames.Deploy,
        State = state,
        Step = step,
        Reason = record.Reason,
        Message = record.Message,
        Model = record.Model,
        Version = record.Version,
        ServingVersion = _installer.Installed.ServingVersionText(record.Model),
        GoldenPassed = record.GoldenPassed,
        GoldenTotal = record.GoldenTotal,
        ShadowRequests = record.ShadowRequests,
        ShadowAgreement = record.ShadowAgreement,
        Final = final,
    };

    /// <summary>The download in progress, which a later command for its model may preempt.</summary>
    private sealed class ActiveDownload(string model, string commandId, CancellationTokenSource cancel)
    {
        public string Model { get; } = model;

        public string CommandId { get; } = commandId;

        public CancellationTokenSource Cancel { get; } = cancel;

        public string? PreemptedBy { get; set; }
    }
}
