using System.Diagnostics;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;
using EdgeInference.Testing;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What one rollout pass reads, on a fleet of N devices all assigned: the snapshot as the engine reads it now (the
/// registry, the rollout's rows, their commands: three reads) against one read per device and per command (how it
/// read before the rows), and the planner's decision on it. On PostgreSQL (a real server) and LiteDB.
/// </summary>
internal static class RolloutPassCost
{
    public static async Task PrintAsync(IReadOnlyList<int> sizes)
    {
        Console.WriteLine("| store | devices | snapshot, 3 reads: ms | one read per device and command: ms | ratio | plan: ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        await using var postgres = await PostgresServer.StartAsync();
        foreach (var devices in sizes)
        {
            using (var store = new PostgresFleetStore(await postgres.CreateDatabaseAsync()))
            {
                Measure("PostgreSQL", store, devices);
            }

            var folder = TestPaths.NewTempDirectory("pass-cost");
            try
            {
                using var store = new LiteDbFleetStore(Path.Combine(folder, "fleet.db"));
                Measure("LiteDB", store, devices);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static void Measure(string name, IFleetStore store, int devices)
    {
        var now = DateTimeOffset.UtcNow;
        var rollout = new RolloutRecord
        {
            Id = "ro-pass", Model = "scorer", Version = "2.0.0", Stages = [new RolloutStage { Percent = 100 }], Gates = [RolloutParser.ParseGate("install_rate>=1")],
            StageStartedAt = now, CreatedAt = now,
        };
        store.SaveRollout(rollout);
        for (var i = 0; i < devices; i++)
        {
            var id = $"dev-{i:00000}";
            store.SaveDevice(new DeviceRecord { Id = id, Online = true, Models = [new ModelStatus { Model = "scorer", Version = 2, PackageVersion = "2.0.0", State = "READY" }] });
            var command = new CommandRecord
            {
                Id = $"deploy-{i:00000}", DeviceId = id, RolloutId = rollout.Id, CreatedAt = now, State = CommandState.Succeeded, Final = true,
                Message = new CommandMessage { Id = $"deploy-{i:00000}", Command = CommandNames.Deploy, Model = "scorer" },
                Replies = [.. new[] { UpdateStep.Download, UpdateStep.Test, UpdateStep.Switch }.Select(step => new ReplyMessage { State = ReplyState.Progress, Step = step, Timestamp = now })
                    .Append(new ReplyMessage { State = ReplyState.Succeeded, Step = UpdateStep.Confirm, Final = true, Timestamp = now })],
            };
            store.SaveAssignment(new RolloutAssignment { RolloutId = rollout.Id, DeviceId = id, CommandId = command.Id, PreviousVersion = "1.0.0", AssignedAt = now, State = InstallState.Installed }, command);
        }

        var snapshot = RolloutReader.Read(store, rollout, now); // warm
        var batched = Median(() => snapshot = RolloutReader.Read(store, rollout, now));
        var perDevice = Median(() =>
        {
            _ = store.ListDevices();
            foreach (var row in store.ListAssignments(rollout.Id))
            {
                _ = store.GetDevice(row.DeviceId);
                _ = store.GetCommand(row.CommandId);
            }
        });
        var plan = Median(() => RolloutPlanner.Plan(snapshot, now));
        Console.WriteLine($"| {name} | {devices:N0} | {batched:0.0} | {perDevice:0.0} | {perDevice / batched:0.0}× | {plan:0.00} |");
    }

    private static double Median(Action action)
    {
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        return times.Order().ElementAt(times.Count / 2);
    }
}
