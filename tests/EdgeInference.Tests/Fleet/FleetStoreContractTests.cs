using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// What every fleet store must do, run against each implementation: LiteDB (the one-process default) and PostgreSQL
/// (a real server, a fresh database per test).
/// </summary>
public abstract class FleetStoreContractTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A store over fresh, empty storage; <see cref="Reopen"/> opens the same storage again.</summary>
    protected abstract Task<IFleetStore> OpenAsync();

    protected abstract IFleetStore Reopen();

    /// <summary>A store over storage written before rollouts had per-device rows, holding one rollout document as it was then.</summary>
    protected abstract Task<IFleetStore> OpenWrittenBeforeRowsAsync(string rolloutId, string rolloutJson);

    [Fact]
    public async Task Devices_RoundTripWithTheirNestedState_AndListAll()
    {
        using var store = await OpenAsync();
        var device = new DeviceRecord { Id = "pi-01", Online = true, Tags = { ["site"] = "lab" }, TrustVersion = 3 };
        device.Stats["scorer@1.0.0"] = new VersionStats { Requests = 10, Errors = 1, P95Ms = 2.5 };
        store.SaveDevice(device);
        store.SaveDevice(new DeviceRecord { Id = "pi-02" });
        device.Tags["ring"] = "canary";
        store.SaveDevice(device);

        var read = store.GetDevice("pi-01")!;
        Assert.Equal("canary", read.Tags["ring"]);
        Assert.Equal(2.5, read.Stats["scorer@1.0.0"].P95Ms);
        Assert.Equal(3, read.TrustVersion);
        Assert.Equal(["pi-01", "pi-02"], store.ListDevices().Select(d => d.Id).Order());
        Assert.Null(store.GetDevice("nope"));
    }

    [Fact]
    public async Task Credentials_AreFoundByHash_AndDeletedOnlyForTheirOwnSubject()
    {
        using var store = await OpenAsync();
        store.SaveCredential(new CredentialRecord { Hash = "h1", Role = Roles.Device, Subject = "pi-01" });
        store.SaveCredential(new CredentialRecord { Hash = "h2", Role = Roles.Device, Subject = "pi-02" });
        store.SaveCredential(new CredentialRecord { Hash = "h3", Role = Roles.Operator, Subject = "pi-01" });

        store.DeleteCredentials(Roles.Device, "pi-01");

        Assert.Null(store.FindCredential("h1"));
        Assert.Equal("pi-02", store.FindCredential("h2")!.Subject);
        Assert.Equal(Roles.Operator, store.FindCredential("h3")!.Role);
    }

    [Fact]
    public async Task PackagesRolloutsAndTrust_RoundTrip()
    {
        using var store = await OpenAsync();
        store.SavePackage(new PackageRecord { Name = "scorer", Version = "1.0.0", Manifest = new PackageManifest { Name = "scorer", Version = "1.0.0" } });
        store.SavePackage(new PackageRecord { Name = "scorer", Version = "2.0.0" });
        var rollout = new RolloutRecord { Id = "ro-1", Model = "scorer", Version = "2.0.0", State = RolloutState.Paused, Stages = [new RolloutStage { Percent = 50 }] };
        store.SaveRollout(rollout);
        Assert.Null(store.GetTrust());
        store.SaveTrust(new SignedTrust { Trust = "e30=", Signatures = [new PackageSignature { KeyId = "0123456789abcdef", Value = "sig" }] });

        Assert.Equal("scorer", store.GetPackage("scorer", "1.0.0")!.Manifest.Name);
        Assert.Equal(2, store.ListPackages().Count);
        var read = store.GetRollout("ro-1")!;
        Assert.Equal(RolloutState.Paused, read.State);
        Assert.Equal(50, read.Stages.Single().Percent);
        Assert.Equal("0123456789abcdef", store.GetTrust()!.Signatures.Single().KeyId);
    }

    [Fact]
    public async Task ARolloutsDeviceRows_AreSavedOneAtATime_WithTheCommandTheyReferTo_AndListedPerRollout()
    {
        using var store = await OpenAsync();
        var deploy = new CommandRecord { Id = "deploy-1", DeviceId = "pi-01", RolloutId = "ro-1", CreatedAt = Now, Message = new CommandMessage { Id = "deploy-1", Command = CommandNames.Deploy } };
        store.SaveAssignment(new RolloutAssignment { RolloutId = "ro-1", DeviceId = "pi-01", CommandId = "deploy-1", PreviousVersion = "1.0.0", AssignedAt = Now }, deploy);
        store.SaveAssignment(new RolloutAssignment { RolloutId = "ro-1", DeviceId = "pi-02", Stage = 1, State = InstallState.Installed, AssignedAt = Now });
        store.SaveAssignment(new RolloutAssignment { RolloutId = "ro-2", DeviceId = "pi-01", AssignedAt = Now });

        var rows = store.ListAssignments("ro-1").OrderBy(a => a.DeviceId, StringComparer.Ordinal).ToArray();
        Assert.Equal(["pi-01", "pi-02"], rows.Select(a => a.DeviceId));
        Assert.Equal(("deploy-1", "1.0.0", 0), (rows[0].CommandId, rows[0].PreviousVersion, rows[0].Stage));
        Assert.Equal((InstallState.Installed, 1), (rows[1].State, rows[1].Stage));
        Assert.Equal("pi-01", store.GetCommand("deploy-1")!.DeviceId);

        // A row saved again replaces itself: the pass records a state, a rollback adds its command.
        var rollback = new CommandRecord { Id = "rollback-1", DeviceId = "pi-01", RolloutId = "ro-1", CreatedAt = Now, Message = new CommandMessage { Id = "rollback-1", Command = CommandNames.Rollback } };
        rows[0].State = InstallState.Installed;
        rows[0].RollbackCommandId = "rollback-1";
        store.SaveAssignment(rows[0], rollback);
        var again = store.ListAssignments("ro-1").Single(a => a.DeviceId == "pi-01");
        Assert.Equal((InstallState.Installed, "rollback-1"), (again.State, again.RollbackCommandId));
        Assert.Equal(["deploy-1", "rollback-1"], store.GetCommands(["rollback-1", "deploy-1", "missing"]).Select(c => c.Id).Order(StringComparer.Ordinal));
        Assert.Empty(store.ListAssignments("ro-3"));
    }

    [Fact]
    public async Task AStoreWrittenBeforeRolloutsHadRows_MovesEachRolloutsDevicesIntoRows_Once()
    {
        var old = JsonSerializer.SerializeToNode(new RolloutRecord { Id = "ro-old", Model = "scorer", Version = "2.0.0", State = RolloutState.Paused, Stages = [new RolloutStage { Percent = 100 }] }, FleetJsonContext.Default.RolloutRecord)!.AsObject();
        old["assignments"] = new JsonObject
        {
            ["pi-01"] = new JsonObject { ["stage"] = 1, ["command_id"] = "deploy-1", ["previous_version"] = "1.0.0", ["assigned_at"] = "2026-11-29T12:00:00+00:00" },
            ["pi-02"] = new JsonObject { ["stage"] = 0, ["command_id"] = "", ["assigned_at"] = "2026-11-29T12:00:00+00:00" },
        };

        using (var store = await OpenWrittenBeforeRowsAsync("ro-old", old.ToJsonString()))
        {
            var rows = store.ListAssignments("ro-old").OrderBy(a => a.DeviceId, StringComparer.Ordinal).ToArray();
            Assert.Equal(["pi-01", "pi-02"], rows.Select(a => a.DeviceId));
            Assert.Equal(("ro-old", 1, "deploy-1", "1.0.0", Now), (rows[0].RolloutId, rows[0].Stage, rows[0].CommandId, rows[0].PreviousVersion, rows[0].AssignedAt));
            Assert.Equal(("", (string?)null), (rows[1].CommandId, rows[1].PreviousVersion));
            Assert.Equal(RolloutState.Paused, store.GetRollout("ro-old")!.State);
        }

        using var reopened = Reopen();
        Assert.Equal(2, reopened.ListAssignments("ro-old").Count);
    }

    [Fact]
    public async Task Events_AreListedPerRollout_InTimeOrder()
    {
        using var store = await OpenAsync();
        store.AddEvent(new RolloutEvent { RolloutId = "ro-1", At = Now.AddSeconds(2), Kind = "advanced" });
        store.AddEvent(new RolloutEvent { RolloutId = "ro-2", At = Now, Kind = "started" });
        store.AddEvent(new RolloutEvent { RolloutId = "ro-1", At = Now, Kind = "started" });

        Assert.Equal(["started", "advanced"], store.ListEvents("ro-1").Select(e => e.Kind));
    }

    [Fact]
    public async Task Commands_AreListedPerDeviceInOrder_AndOpenOnesUntilFinal()
    {
        using var store = await OpenAsync();
        store.SaveCommand(Command("c2", "pi-01", Now.AddSeconds(1)));
        store.SaveCommand(Command("c1", "pi-01", Now));
        store.SaveCommand(Command("c3", "pi-02", Now));
        Assert.True(store.UpdateCommand("c1", c =>
        {
            c.State = CommandState.Succeeded;
            return c.Final = true;
        }));

        Assert.Equal(["c1", "c2"], store.ListCommands("pi-01").Select(c => c.Id));
        Assert.Equal(3, store.ListCommands(null).Count);
        Assert.Equal(["c2", "c3"], store.ListOpenCommands().Select(c => c.Id).Order());
        Assert.Equal(CommandState.Succeeded, store.GetCommand("c1")!.State);
        Assert.False(store.UpdateCommand("nope", _ => true));
        Assert.False(store.UpdateCommand("c2", c =>
        {
            c.Sends = 99;
            return false; // nothing to write
        }));
        Assert.Equal(0, store.GetCommand("c2")!.Sends);
    }

    [Fact]
    public async Task ClaimDueCommands_TakesOnlyDueCommandsToOnlineDevices_OldestFirst_AndLeasesThem()
    {
        using var store = await OpenAsync();
        store.SaveDevice(new DeviceRecord { Id = "pi-01", Online = true });
        store.SaveDevice(new DeviceRecord { Id = "pi-02", Online = false });
        var silence = TimeSpan.FromMinutes(1);
        store.SaveCommand(Command("new", "pi-01", Now.AddSeconds(2)));
        store.SaveCommand(Command("older", "pi-01", Now));
        store.SaveCommand(Command("offline", "pi-02", Now));
        var heard = Command("heard", "pi-01", Now);
        heard.LastActivity = Now.AddSeconds(-30);
        store.SaveCommand(heard);
        var silent = Command("silent", "pi-01", Now.AddSeconds(1));
        silent.LastActivity = Now.AddMinutes(-2);
        store.SaveCommand(silent);
        var expired = Command("expired", "pi-01", Now);
        expired.Message.ExpiresAt = Now.AddSeconds(-1);
        store.SaveCommand(expired);
        var leased = Command("leased", "pi-01", Now);
        leased.LeaseUntil = Now.AddSeconds(20);
        store.SaveCommand(leased);
        var done = Command("done", "pi-01", Now);
        done.Final = true;
        store.SaveCommand(done);

        var claimed = store.ClaimDueCommands(Now, silence, TimeSpan.FromSeconds(30), limit: 2);
        Assert.Equal(["older", "silent"], claimed.Select(c => c.Id));
        Assert.All(claimed, c => Assert.Equal(Now.AddSeconds(30), c.LeaseUntil));
        Assert.Equal(Now.AddSeconds(30), store.GetCommand("older")!.LeaseUntil);

        // Leased now, the first two are not claimed again until their lease is over; the rest of what is due is.
        Assert.Equal(["new"], store.ClaimDueCommands(Now, silence, TimeSpan.FromSeconds(30), limit: 10).Select(c => c.Id));
        Assert.Empty(store.ClaimDueCommands(Now.AddSeconds(10), silence, TimeSpan.FromSeconds(30), limit: 10));
        // Later, the leases are over and the command heard of 30 s before is silent for long enough too.
        Assert.Equal(["heard", "leased", "older", "silent", "new"], store.ClaimDueCommands(Now.AddSeconds(31), silence, TimeSpan.FromSeconds(30), limit: 10).Select(c => c.Id));
        Assert.Equal(["expired"], store.ListExpiredCommands(Now));
    }

    [Fact]
    public async Task ClaimDueCommands_FromConcurrentClaimers_HandsEachCommandToOneOfThem()
    {
        using var store = await OpenAsync();
        store.SaveDevice(new DeviceRecord { Id = "pi-01", Online = true });
        for (var i = 0; i < 200; i++)
        {
            store.SaveCommand(Command($"c{i:D3}", "pi-01", Now.AddMilliseconds(i)));
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var mine = new List<string>();
            while (store.ClaimDueCommands(Now, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), limit: 7) is { Count: > 0 } batch)
            {
                mine.AddRange(batch.Select(c => c.Id));
            }

            return mine;
        })));

        var all = claims.SelectMany(ids => ids).ToList();
        Assert.Equal(200, all.Count);
        Assert.Equal(200, all.Distinct().Count());
    }

    [Fact]
    public async Task ClaimDueCommands_WhileCommandsAreCreatedAndMarkedSent_SendsEachOnce()
    {
        using var store = await OpenAsync();
        store.SaveDevice(new DeviceRecord { Id = "pi-01", Online = true });
        var creating = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                store.SaveCommand(Command($"c{i:D3}", "pi-01", DateTimeOffset.UtcNow));
                await Task.Yield();
            }
        });
        var claimers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var done = creating.IsCompleted;
                var now = DateTimeOffset.UtcNow;
                var batch = store.ClaimDueCommands(now, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), 7);
                if (batch.Count == 0 && done)
                {
                    return;
                }

                foreach (var command in batch)
                {
                    // What the dispatcher does once the broker took it.
                    store.UpdateCommand(command.Id, c =>
                    {
                        c.Sends++;
                        c.LeaseUntil = null;
                        c.LastActivity = now;
                        return true;
                    });
                }

                await Task.Yield();
            }
        })).ToArray();
        await Task.WhenAll(claimers.Append(creating));

        Assert.Equal(300, store.ListCommands(null).Count);
        Assert.All(store.ListCommands(null), c => Assert.Equal(1, c.Sends));
    }

    [Fact]
    public async Task UpdateCommand_IsAtomic_UnderConcurrentWriters()
    {
        using var store = await OpenAsync();
        store.SaveCommand(Command("c1", "pi-01", Now));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 25; i++)
            {
                store.UpdateCommand("c1", c =>
                {
                    c.Sends++;
                    return true;
                });
            }
        })));
        Assert.Equal(200, store.GetCommand("c1")!.Sends);
    }

    [Fact]
    public async Task UpdateDevice_CreatesANewDevice_AndLosesNoChangeUnderConcurrentWriters()
    {
        using var store = await OpenAsync();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 25; i++)
            {
                store.UpdateDevice("pi-new", d => d.Stats["scorer@1.0.0"] = new VersionStats { Requests = (d.Stats.GetValueOrDefault("scorer@1.0.0")?.Requests ?? 0) + 1 });
            }
        })));

        Assert.Equal(200, store.GetDevice("pi-new")!.Stats["scorer@1.0.0"].Requests);
        Assert.Equal(["pi-new"], store.ListDevices().Select(d => d.Id));
    }

    [Fact]
    public async Task EverythingWritten_IsThereWhenTheStoreIsOpenedAgain()
    {
        using (var store = await OpenAsync())
        {
            store.SaveDevice(new DeviceRecord { Id = "pi-01", Enrolled = true });
            store.SaveCommand(Command("c1", "pi-01", Now));
            store.AddEvent(new RolloutEvent { RolloutId = "ro-1", At = Now, Kind = "started" });
        }

        using var again = Reopen();
        Assert.True(again.GetDevice("pi-01")!.Enrolled);
        Assert.NotNull(again.GetCommand("c1"));
        Assert.Single(again.ListEvents("ro-1"));
    }

    private static CommandRecord Command(string id, string device, DateTimeOffset created) =>
        new() { Id = id, DeviceId = device, CreatedAt = created, Message = new CommandMessage { Id = id, Command = CommandNames.Reload } };
}
