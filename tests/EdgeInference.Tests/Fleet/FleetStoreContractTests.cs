using EdgeInference.Contracts;
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
        rollout.Assignments["pi-01"] = new RolloutAssignment { CommandId = "c1", PreviousVersion = "1.0.0", AssignedAt = Now };
        store.SaveRollout(rollout);
        Assert.Null(store.GetTrust());
        store.SaveTrust(new SignedTrust { Trust = "e30=", Signatures = [new PackageSignature { KeyId = "0123456789abcdef", Value = "sig" }] });

        Assert.Equal("scorer", store.GetPackage("scorer", "1.0.0")!.Manifest.Name);
        Assert.Equal(2, store.ListPackages().Count);
        var read = store.GetRollout("ro-1")!;
        Assert.Equal(RolloutState.Paused, read.State);
        Assert.Equal("1.0.0", read.Assignments["pi-01"].PreviousVersion);
        Assert.Equal(50, read.Stages.Single().Percent);
        Assert.Equal("0123456789abcdef", store.GetTrust()!.Signatures.Single().KeyId);
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
