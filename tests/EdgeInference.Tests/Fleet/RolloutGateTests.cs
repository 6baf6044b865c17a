using EdgeInference.Contracts;
using System.Text;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Commands;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Packages;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// The rollout engine's decisions on a fake clock, fed the replies and telemetry devices would send: a stage settles only
/// when its devices have confirmed (probation over) or failed, and a gate without data waits, then fails or passes as
/// the rollout says.
/// </summary>
public sealed class RolloutGateTests : IDisposable
{
    private const string Device = "d1";
    private readonly string _folder = TestPaths.NewTempDirectory("gates");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly LiteDbFleetStore _store;
    private readonly DeviceRegistry _registry;
    private readonly RolloutEngine _engine;
    private readonly FleetMqttClient _mqtt;
    private readonly CommandService _commands;

    public RolloutGateTests()
    {
        var options = new FleetOptions { Data = _folder, PublicUrl = "http://127.0.0.1:1" };
        _store = new LiteDbFleetStore(Path.Combine(_folder, "fleet.db"));
        _registry = new DeviceRegistry(_store, _time, NullLogger<DeviceRegistry>.Instance);
        // Never started: commands are saved, not sent; the test plays the device.
        _mqtt = new FleetMqttClient(_registry, options, null, null, new EdgeInference.Fleet.Broker.UnmanagedBroker(), _time, NullLogger<FleetMqttClient>.Instance);
        _commands = new CommandService(_store, _mqtt, new DownloadTokens(options, _time), options, _time, NullLogger<CommandService>.Instance);
        _engine = new RolloutEngine(_store, _commands, options, _time, NullLogger<RolloutEngine>.Instance);
        _store.SavePackage(new PackageRecord { Name = "scorer", Version = "2.0.0", Manifest = new PackageManifest { Name = "scorer", Version = "2.0.0" } });
        _registry.Update(Device, d => d.Online = true);
    }

    public void Dispose()
    {
        _engine.Dispose();
        _commands.Dispose();
        _mqtt.Dispose();
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ADeviceOnProbation_DoesNotSettleItsStage_EvenPastTheSoak_UntilItConfirms()
    {
        var rollout = await StartAsync(soak: TimeSpan.Zero, "install_rate>=1");
        Reply(rollout, "progress", "switch", final: false);
        await PassAsync(TimeSpan.FromMinutes(1));
        Assert.Equal((RolloutState.Running, InstallState.Probation), (State(rollout), DeviceState(rollout)));
        Assert.Equal(InstallState.Probation, _store.ListAssignments(rollout).Single().State); // the row's state column follows each pass

        Reply(rollout, "succeeded", "confirm", final: true);
        await PassAsync(TimeSpan.FromSeconds(1));
        Assert.Equal((RolloutState.Completed, InstallState.Installed), (State(rollout), DeviceState(rollout)));
        Assert.Equal(InstallState.Installed, _store.ListAssignments(rollout).Single().State);
    }

    [Fact]
    public async Task ADeviceThatRollsBackByItselfDuringProbation_FailsTheStage_ThoughTheSoakWasShorter()
    {
        var rollout = await StartAsync(soak: TimeSpan.FromSeconds(1), "install_rate>=1");
        Reply(rollout, "progress", "switch", final: false);
        await PassAsync(TimeSpan.FromSeconds(5)); // before: the switch counted as installed, and the stage advanced here
        Assert.Equal(RolloutState.Running, State(rollout));

        Reply(rollout, "rolled_back", "rollback", final: true, reason: "crash_loop");
        await PassAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(RolloutState.Paused, State(rollout));
        Assert.Contains("install_rate>=1 measured 0", _store.GetRollout(rollout)!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGateWithoutData_WaitsPastTheSoak_ThenFailsTheStageByDefault()
    {
        var rollout = await StartAsync(soak: TimeSpan.FromMinutes(1), "error_rate<=0.01");
        Reply(rollout, "succeeded", "confirm", final: true);
        await PassAsync(TimeSpan.Zero); // settled: the soak starts
        await PassAsync(TimeSpan.FromMinutes(2)); // soak over, no telemetry: it waits (before: "no data" passed)
        Assert.Equal(RolloutState.Running, State(rollout));

        await PassAsync(TimeSpan.FromMinutes(10));
        Assert.Equal(RolloutState.Paused, State(rollout));
        Assert.Contains("error_rate<=0.01 had no data within 00:11:00", _store.GetRollout(rollout)!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGateWithoutData_WithOnNoDataPass_PassesOnceItsWaitIsOver()
    {
        var rollout = await StartAsync(soak: TimeSpan.FromMinutes(1), "error_rate<=0.01", onNoData: RolloutParser.NoDataPasses);
        Reply(rollout, "succeeded", "confirm", final: true);
        await PassAsync(TimeSpan.Zero);
        await PassAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(RolloutState.Running, State(rollout));

        await PassAsync(TimeSpan.FromMinutes(10));
        Assert.Equal(RolloutState.Completed, State(rollout));
        Assert.Contains("(no data; on_no_data pass)", _store.ListEvents(rollout).Last().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGateWhoseDataArrives_DecidesAtTheEndOfTheSoak()
    {
        var rollout = await StartAsync(soak: TimeSpan.FromMinutes(1), "error_rate<=0.01");
        Reply(rollout, "succeeded", "confirm", final: true);
        Telemetry(requests: 500, errors: 1);
        await PassAsync(TimeSpan.Zero);
        await PassAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RolloutState.Running, State(rollout)); // soaking

        await PassAsync(TimeSpan.FromSeconds(31));
        Assert.Equal(RolloutState.Completed, State(rollout));
    }

    private async Task<string> StartAsync(TimeSpan soak, string gate, string onNoData = RolloutParser.NoDataFails)
    {
        var rollout = await _engine.StartAsync(new RolloutRecord
        {
            Model = "scorer", Version = "2.0.0", Stages = RolloutParser.ParseStages("100%"), Soak = soak, Gates = [RolloutParser.ParseGate(gate)],
            NoDataTimeout = TimeSpan.FromMinutes(10), OnNoData = onNoData,
        }, CancellationToken.None);
        Assert.Single(_store.ListAssignments(rollout.Id));
        return rollout.Id;
    }

    private async Task PassAsync(TimeSpan after)
    {
        _time.Advance(after);
        await _engine.PassAllAsync(CancellationToken.None);
    }

    private RolloutState State(string rollout) => _store.GetRollout(rollout)!.State;

    private InstallState DeviceState(string rollout) => _engine.Devices(_store.GetRollout(rollout)!).Single().State;

    private void Reply(string rollout, string state, string step, bool final, string? reason = null)
    {
        var command = _store.ListAssignments(rollout).Single(a => a.DeviceId == Device).CommandId;
        var json = $$"""{"device_id":"{{Device}}","command_id":"{{command}}","command":"deploy","state":"{{state}}","step":"{{step}}","final":{{(final ? "true" : "false")}},"model":"scorer","version":"2.0.0"{{(reason is null ? "" : $",\"reason\":\"{reason}\"")}}}""";
        _registry.Handle($"edge/{Device}/replies/{command}", Encoding.UTF8.GetBytes(json));
        Assert.Equal(0, _registry.Dropped);
    }

    private void Telemetry(long requests, long errors)
    {
        var json = $$"""{"device_id":"{{Device}}","timestamp":"{{_time.GetUtcNow():O}}","window_seconds":10,"models":[{"model":"scorer","version":2,"package_version":"2.0.0","requests":{{requests}},"errors":{{errors}}}]}""";
        _registry.Handle($"edge/{Device}/telemetry", Encoding.UTF8.GetBytes(json));
        Assert.Equal(0, _registry.Dropped);
    }
}
