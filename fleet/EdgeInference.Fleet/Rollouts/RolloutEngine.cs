using System.Security.Cryptography;
using System.Text;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Commands;
using EdgeInference.Fleet.Dashboard;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Fleet.Rollouts;

/// <summary>
/// The rollout reconcile loop, planner → plan → runner: each pass reads a snapshot (the rollout, the devices its
/// selector picks, each assigned device's state from its commands), lets <see cref="RolloutPlanner"/> decide, and
/// carries the plan out — assignments and their deploy commands, rollbacks, gate measurements, transitions. The
/// decisions are pure; this class only reads and writes. Operator actions go through the same gate and the store's
/// fleet-wide rollout lock, so a pass never races one, on this replica or another; only the leading replica
/// (<see cref="FleetLeader"/>) runs the periodic passes.
/// </summary>
public sealed class RolloutEngine : BackgroundService
{
    private readonly FleetChanges? _changes;
    private readonly IFleetStore _store;
    private readonly CommandService _commands;
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RolloutEngine> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly FleetLeader? _leader;

    public RolloutEngine(IFleetStore store, CommandService commands, FleetOptions options, TimeProvider time, ILogger<RolloutEngine> logger, FleetChanges? changes = null, FleetLeader? leader = null)
    {
        _leader = leader;
        _changes = changes;
        _store = store;
        _commands = commands;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Starts a rollout; throws <see cref="RolloutException"/> when it cannot.</summary>
    public async Task<RolloutRecord> StartAsync(RolloutRecord rollout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var exclusive = _store.LockRollouts();
            if (_store.GetPackage(rollout.Model, rollout.Version) is null)
            {
                throw new RolloutException(404, $"there is no package {rollout.Model} {rollout.Version}; push it first");
            }

            if (_store.ListRollouts().FirstOrDefault(r => r.Model == rollout.Model && r.State is not (RolloutState.Completed or RolloutState.Aborted or RolloutState.RolledBack)) is { } busy)
            {
                throw new RolloutException(409, $"rollout {busy.Id} of {busy.Model} {busy.Version} is {busy.State}; finish, abort or roll it back first");
            }

            var now = _time.GetUtcNow();
            rollout.Id = $"ro-{now:yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
            rollout.State = RolloutState.Running;
            rollout.Stage = 0;
            rollout.CreatedAt = rollout.UpdatedAt = rollout.StageStartedAt = now;
            _store.SaveRollout(rollout);
            Record(rollout, "started", $"{rollout.Model} {rollout.Version} to '{(rollout.Target.Length == 0 ? "all devices" : rollout.Target)}' in stages {string.Join(", ", rollout.Stages)}", rollout.CreatedBy);
            Pass(rollout);
            return _store.GetRollout(rollout.Id)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>An operator's pause, resume, promote, abort or rollback; throws <see cref="RolloutException"/> when it does not apply.</summary>
    public async Task<RolloutRecord> ActAsync(string id, string action, string? by, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var exclusive = _store.LockRollouts();
            var rollout = _store.GetRollout(id) ?? throw new RolloutException(404, $"there is no rollout {id}");
            var state = rollout.State;
            switch (action)
            {
                case "pause" when state is RolloutState.Running or RolloutState.WaitingApproval:
                    Transition(rollout, RolloutState.Paused, "paused", "paused by an operator", by);
                    break;
                case "resume" when state is RolloutState.Paused:
                    Transition(rollout, RolloutState.Running, "resumed", "resumed by an operator", by);
                    break;
                case "promote" when state is RolloutState.Running or RolloutState.WaitingApproval or RolloutState.Paused:
                    Advance(rollout, "promoted", "promoted by an operator", by);
                    break;
                case "abort" when state is RolloutState.Running or RolloutState.WaitingApproval or RolloutState.Paused:
                    CancelUnsent(Read(rollout));
                    Transition(rollout, RolloutState.Aborted, "aborted", "aborted by an operator; devices keep what they have", by);
                    break;
                case "rollback" when state is not (RolloutState.RolledBack or RolloutState.RollingBack):
                    CancelUnsent(Read(rollout));
                    Transition(rollout, RolloutState.RollingBack, "rolling_back", "rollback ordered by an operator", by);
                    break;
                case "pause" or "resume" or "promote" or "abort" or "rollback":
                    throw new RolloutException(409, $"rollout {id} is {state}: it cannot {action}");
                default:
                    throw new RolloutException(400, $"'{action}' is not a rollout action (pause, resume, promote, abort, rollback)");
            }

            Pass(rollout);
            return _store.GetRollout(id)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The rollout's devices with their computed states.</summary>
    public IReadOnlyList<RolloutDevice> Devices(RolloutRecord rollout) => Read(rollout).Devices;

    /// <summary>What a pass decides from (<see cref="RolloutReader"/>).</summary>
    internal RolloutSnapshot Read(RolloutRecord rollout) => RolloutReader.Read(_store, rollout, _time.GetUtcNow());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.RolloutInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                // Exactly one replica plans: the one holding the leadership lease.
                if (_leader?.IsLeader != false)
                {
                    try
                    {
                        await PassAllAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The loop boundary: the store is away (a database restart); the next tick tries again.
                        FleetLog.RolloutPassFailed(_logger, "*", ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over every active rollout (the loop runs one per <see cref="FleetOptions.RolloutInterval"/>).</summary>
    internal async Task PassAllAsync(CancellationToken cancellationToken)
    {
        var rollouts = _store.ListRollouts();
        foreach (var rollout in rollouts.Where(r => r.State.IsActive()))
        {
            // A completed rollout keeps serving late devices only while it is its model's newest.
            if (rollout.State == RolloutState.Completed && rollouts.Any(r => r.Model == rollout.Model && r.CreatedAt > rollout.CreatedAt))
            {
                continue;
            }

            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Read it again under the gate and the fleet-wide lock: an operator may have acted, on any replica.
                using var exclusive = _store.LockRollouts();
                if (_store.GetRollout(rollout.Id) is { } current)
                {
                    Pass(current);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The loop boundary: one rollout's failure must not stop the others.
                FleetLog.RolloutPassFailed(_logger, rollout.Id, ex);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    /// <summary>One pass: read the snapshot, let the planner decide, carry its plan out (the only writes).</summary>
    private void Pass(RolloutRecord rollout)
    {
        if (!rollout.State.IsActive())
        {
            return;
        }

        var snapshot = Read(rollout);
        RecordStates(snapshot);
        var plan = RolloutPlanner.Plan(snapshot, _time.GetUtcNow());
        Execute(rollout, snapshot, plan);
        if (rollout.State == RolloutState.RollingBack && plan.Any(a => a is RolloutAction.Transition { State: RolloutState.RollingBack }))
        {
            // Rolling back starts at once: the rollbacks go out in this pass.
            var rollingBack = Read(rollout);
            Execute(rollout, rollingBack, RolloutPlanner.Plan(rollingBack, _time.GetUtcNow()));
        }
    }

    /// <summary>Keeps each row's state column as the commands say, writing only the rows whose state changed.</summary>
    private void RecordStates(RolloutSnapshot snapshot)
    {
        foreach (var device in snapshot.Devices)
        {
            if (device.Assignment is { } row && row.State != device.State)
            {
                row.State = device.State;
                _store.SaveAssignment(row);
            }
        }
    }

    private void Execute(RolloutRecord rollout, RolloutSnapshot snapshot, IReadOnlyList<RolloutAction> plan)
    {
        foreach (var action in plan)
        {
            switch (action)
            {
                case RolloutAction.Assign assign:
                    Assign(rollout, assign);
                    break;
                case RolloutAction.AssignBenchmark benchmark:
                    AssignBenchmark(rollout, benchmark);
                    break;
                case RolloutAction.SendDeploy deploy:
                    Deploy(rollout, snapshot.Assigned[deploy.DeviceId].Assignment!);
                    break;
                case RolloutAction.RollBackDevice device:
                    RollBack(rollout, snapshot.Assigned[device.DeviceId].Assignment!);
                    break;
                case RolloutAction.CancelUnsent:
                    CancelUnsent(snapshot);
                    break;
                case RolloutAction.Measure measure:
                    rollout.LastGateResults = measure.Gates;
                    rollout.StageSettledAt = measure.SettledAt;
                    Save(rollout);
                    break;
                case RolloutAction.Transition transition:
                    Transition(rollout, transition.State, transition.Kind, transition.Message, null);
                    break;
                case RolloutAction.Advance advance:
                    Advance(rollout, advance.Kind, advance.Message, null);
                    break;
            }
        }

        if (plan.Count > 0)
        {
            _changes?.Publish("rollout", rollout.Id);
        }
    }

    private void Assign(RolloutRecord rollout, RolloutAction.Assign assign)
    {
        var assignment = new RolloutAssignment
        {
            RolloutId = rollout.Id, DeviceId = assign.DeviceId, Stage = rollout.Stage, PreviousVersion = assign.PreviousVersion, AssignedAt = _time.GetUtcNow(),
            State = assign.Deploy ? InstallState.Pending : InstallState.Installed,
        };
        if (!assign.Deploy)
        {
            _store.SaveAssignment(assignment);
            return;
        }

        Deploy(rollout, assignment);
    }

    private void Deploy(RolloutRecord rollout, RolloutAssignment assignment)
    {
        var deploy = PackageDeploy(rollout);
        var message = new CommandMessage { Id = $"deploy-{Guid.NewGuid():N}", Command = CommandNames.Deploy, Model = rollout.Model, Deploy = rollout.Shadow?.ApplyTo(deploy) ?? deploy };
        var command = _commands.New(assignment.DeviceId, message, rollout.Id, null);
        assignment.CommandId = command.Id;
        assignment.State = InstallState.Pending;
        // The row and its command in one commit, then the dispatcher is woken: a crash between finds both or neither.
        _store.SaveAssignment(assignment, command);
        _commands.Wake();
    }

    /// <summary>The device times the package beside what it serves; the deploy follows when its figures pass the gate.</summary>
    private void AssignBenchmark(RolloutRecord rollout, RolloutAction.AssignBenchmark assign)
    {
        var assignment = new RolloutAssignment
        {
            RolloutId = rollout.Id, DeviceId = assign.DeviceId, Stage = rollout.Stage, PreviousVersion = assign.PreviousVersion, AssignedAt = _time.GetUtcNow(),
            State = InstallState.Benchmarking,
        };
        var message = new CommandMessage
        {
            Id = $"benchmark-{Guid.NewGuid():N}", Command = CommandNames.Benchmark, Model = rollout.Model, Deploy = PackageDeploy(rollout), Benchmark = new BenchmarkCommand(),
            Reason = $"rollout {rollout.Id}: {string.Join(", ", rollout.Gates.Where(g => g.Metric == GateMetrics.BenchP95Ms))} before the deploy",
        };
        var command = _commands.New(assign.DeviceId, message, rollout.Id, null);
        assignment.BenchmarkCommandId = command.Id;
        _store.SaveAssignment(assignment, command);
        _commands.Wake();
    }

    private void RollBack(RolloutRecord rollout, RolloutAssignment assignment)
    {
        var message = new CommandMessage
        {
            Id = $"rollback-{Guid.NewGuid():N}",
            Command = CommandNames.Rollback,
            Model = rollout.Model,
            ToVersion = assignment.PreviousVersion,
            Reason = $"rollout {rollout.Id}: {rollout.Reason}",
        };
        var command = _commands.New(assignment.DeviceId, message, rollout.Id, null);
        assignment.RollbackCommandId = command.Id;
        _store.SaveAssignment(assignment, command);
        _commands.Wake();
    }

    private void Advance(RolloutRecord rollout, string kind, string message, string? by)
    {
        if (rollout.Stage >= rollout.Stages.Count - 1)
        {
            Transition(rollout, RolloutState.Completed, "completed", message, by);
            return;
        }

        rollout.Stage++;
        rollout.StageStartedAt = _time.GetUtcNow();
        rollout.StageSettledAt = null;
        Transition(rollout, RolloutState.Running, kind, $"{message}; now stage {rollout.Stage + 1} of {rollout.Stages.Count} ({rollout.Stages[rollout.Stage]})", by);
    }

    /// <summary>Cancels deploy (and benchmark) commands no device has answered yet, so nothing more installs the version.</summary>
    private void CancelUnsent(RolloutSnapshot snapshot)
    {
        var unsent = snapshot.Devices.Where(d => d.Assignment is { CommandId.Length: > 0 } && d.State is InstallState.Pending or InstallState.Offline).Select(d => d.Assignment!.CommandId)
            .Concat(snapshot.Devices.Where(d => d.Assignment is { CommandId.Length: 0, BenchmarkCommandId: not null }).Select(d => d.Assignment!.BenchmarkCommandId!));
        foreach (var id in unsent)
        {
            _store.UpdateCommand(id, c =>
            {
                if (c.Final || c.Replies.Count > 0)
                {
                    return false;
                }

                c.State = CommandState.Cancelled;
                return c.Final = true;
            });
        }
    }

    private void Transition(RolloutRecord rollout, RolloutState state, string kind, string message, string? by)
    {
        rollout.State = state;
        rollout.Reason = message;
        Save(rollout);
        Record(rollout, kind, message, by);
    }

    private void Record(RolloutRecord rollout, string kind, string message, string? by)
    {
        _store.AddEvent(new RolloutEvent { RolloutId = rollout.Id, At = _time.GetUtcNow(), Kind = kind, Stage = rollout.Stage, Message = message, By = by });
        FleetLog.RolloutEvent(_logger, rollout.Id, kind, rollout.Stage + 1, message);
        _changes?.Publish("rollout", rollout.Id);
    }

    private void Save(RolloutRecord rollout)
    {
        rollout.UpdatedAt = _time.GetUtcNow();
        _store.SaveRollout(rollout);
        _changes?.Publish("rollout", rollout.Id);
    }

    private DeployCommand PackageDeploy(RolloutRecord rollout) => new()
    {
        PackageUrl = $"{_options.PublicUrl!.TrimEnd('/')}/api/v1/packages/{Uri.EscapeDataString(rollout.Model)}/{Uri.EscapeDataString(rollout.Version)}",
        Package = _store.GetPackage(rollout.Model, rollout.Version)!.Signed,
        Trust = _store.GetTrust(),
    };
}
