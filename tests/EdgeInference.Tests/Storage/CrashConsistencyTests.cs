using System.Collections.Concurrent;
using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Store;
using EdgeInference.Storage;
using Xunit.Abstractions;

namespace EdgeInference.Tests.Storage;

/// <summary>
/// R1: power cuts at random writes (unflushed writes kept, lost or torn at 512 bytes, at random) in each durable store:
/// the prediction log, the outbox with its checkpoints, the fleet's store, and a second cut during the journal replay
/// of the first. Records are realistic in size, one in 40 over 1 MB. After each cut the store must reopen, hold every
/// record it acknowledged, be sound (its count matches what it reads) and take new records. The trial count is
/// <c>EDGE_CRASH_TRIALS</c> (1 000 by default, the figure in docs/security.md).
/// </summary>
public sealed class CrashConsistencyTests
{
    private static readonly int Trials = int.TryParse(Environment.GetEnvironmentVariable("EDGE_CRASH_TRIALS"), out var trials) ? trials : 1000;
    private readonly ITestOutputHelper _output;

    public CrashConsistencyTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ThePredictionLog_CutAtRandomWrites_KeepsEveryAcknowledgedRecord()
    {
        var figures = new Figures("prediction log");
        for (var seed = 1; seed <= Trials; seed++)
        {
            var random = new Random(seed);
            var disk = new CrashableDisk(seed, crashAtWrite: random.Next(1, 400));
            var files = new[] { disk.Open("p.db"), disk.Open("p.db.journal") };
            var (acknowledged, midStream) = await RunLogAsync(disk, files, random, (options, open) => new PredictionLogStore(options, open), Prediction);
            figures.Count(midStream, acknowledged.Count);

            using var reopened = ReopenLog(disk, files, seed, (options, open) => new PredictionLogStore(options, open));
            var all = reopened.Read(0, int.MaxValue).ToDictionary(r => r.Sequence);
            Assert.Equal(all.Count, reopened.Count);
            foreach (var (sequence, id) in acknowledged)
            {
                Assert.True(all.TryGetValue(sequence, out var record) && record.RequestId == id, $"seed {seed}: acknowledged record {sequence} ({id}) was lost");
            }

            await AssertTakesANewRecordAsync(reopened, Prediction("after", 0), seed);
        }

        figures.Report(_output);
    }

    [Fact]
    public async Task TheOutboxAndItsCheckpoints_CutAtRandomWrites_KeepEveryAcknowledgedMessage_AndNeverMoveBack()
    {
        var figures = new Figures("outbox");
        for (var seed = 1; seed <= Trials; seed++)
        {
            var random = new Random(seed);
            var disk = new CrashableDisk(seed, crashAtWrite: random.Next(1, 400));
            var files = new[] { disk.Open("o.db"), disk.Open("o.db.journal") };
            var saved = 0L;
            var highest = 0L;
            var publisher = new Lock();
            var (acknowledged, midStream) = await RunLogAsync(disk, files, random, (options, open) => new OutboxStore(options, open), Outbox, (log, sequence) =>
            {
                // The publisher (one, moving forward only) saves a checkpoint as the broker acknowledges; one that returned is durable.
                lock (publisher)
                {
                    if (sequence % 3 == 0 && sequence > highest)
                    {
                        highest = sequence;
                        log.SaveCheckpoint(ForwardingService.CheckpointName, sequence);
                        if (!disk.Crashed)
                        {
                            saved = sequence;
                        }
                    }
                }
            });
            figures.Count(midStream, acknowledged.Count);

            using var reopened = ReopenLog(disk, files, seed, (options, open) => new OutboxStore(options, open));
            var all = reopened.Read(0, int.MaxValue).ToDictionary(r => r.Sequence);
            Assert.Equal(all.Count, reopened.Count);
            foreach (var (sequence, topic) in acknowledged)
            {
                Assert.True(all.TryGetValue(sequence, out var message) && message.Topic == topic, $"seed {seed}: acknowledged message {sequence} was lost");
            }

            var checkpoint = reopened.ReadCheckpoint(ForwardingService.CheckpointName);
            Assert.True(checkpoint >= saved, $"seed {seed}: the checkpoint went back from {saved} to {checkpoint}");
            Assert.True(checkpoint <= reopened.Acknowledged, $"seed {seed}: the checkpoint {checkpoint} is past the last record {reopened.Acknowledged}");
            await AssertTakesANewRecordAsync(reopened, Outbox("after", 0), seed);
        }

        figures.Report(_output);
    }

    [Fact]
    public void TheFleetStore_CutAtRandomWrites_KeepsEveryWriteThatReturned()
    {
        var figures = new Figures("fleet store");
        for (var seed = 1; seed <= Trials; seed++)
        {
            var random = new Random(seed);
            var disk = new CrashableDisk(seed, crashAtWrite: random.Next(1, 300));
            var files = new[] { disk.Open("fleet.db"), disk.Open("fleet.db.journal") };
            var written = new Dictionary<string, string>(StringComparer.Ordinal); // command id → reason, as last returned
            (string Id, string Reason)? inFlight = null; // the write the cut interrupted: it may or may not have landed
            using (var store = new LiteDbFleetStore(DurableLiteDatabase.Open(new JournaledStream(files[0], files[1]))))
            {
                for (var i = 0; i < 60 && !disk.Crashed; i++)
                {
                    var id = $"c{random.Next(20)}";
                    var reason = i % 40 == 39 ? new string('r', 1_200_000) : $"write {i}";
                    store.SaveCommand(new CommandRecord { Id = id, DeviceId = $"d{i % 3}", Message = new CommandMessage { Id = id, Command = "reload", Reason = reason } });
                    if (!disk.Crashed)
                    {
                        written[id] = reason;
                    }
                    else
                    {
                        inFlight = (id, reason);
                    }
                }

                figures.Count(disk.Crashed, written.Count);
                disk.Crash();
            }

            var after = new CrashableDisk(seed, long.MaxValue);
            var survived = files.Select(f => after.Open(f.Name, f.DurableBytes)).ToArray();
            using var reopened = new LiteDbFleetStore(DurableLiteDatabase.Open(new JournaledStream(survived[0], survived[1])));
            foreach (var (id, reason) in written)
            {
                var found = reopened.GetCommand(id)?.Message.Reason;
                Assert.True(found == reason || (inFlight?.Id == id && found == inFlight?.Reason), $"seed {seed}: the last write of command {id} that returned was lost");
            }

            Assert.Equal(reopened.ListCommands(null).Count, reopened.ListCommands(null).Select(c => c.Id).Distinct().Count());
            reopened.SaveCommand(new CommandRecord { Id = "after", DeviceId = "d0", Message = new CommandMessage { Id = "after", Command = "reload" } });
            Assert.NotNull(reopened.GetCommand("after"));
        }

        figures.Report(_output);
    }

    [Fact]
    public async Task AJournalReplay_CutItselfAtARandomWrite_StillLeavesEveryAcknowledgedRecord()
    {
        var figures = new Figures("journal replay");
        var interrupted = 0;
        for (var seed = 1; seed <= Trials; seed++)
        {
            var random = new Random(seed);
            var disk = new CrashableDisk(seed, crashAtWrite: random.Next(1, 400));
            var files = new[] { disk.Open("p.db"), disk.Open("p.db.journal") };
            var (acknowledged, midStream) = await RunLogAsync(disk, files, random, (options, open) => new PredictionLogStore(options, open), Prediction);
            figures.Count(midStream, acknowledged.Count);

            // The second power cut: during the replay of the journal the first one left (if any), at a random write.
            var second = new CrashableDisk(seed + 1_000_000, crashAtWrite: random.Next(1, 8));
            var replaying = files.Select(f => second.Open(f.Name, f.DurableBytes)).ToArray();
            var journalLeft = replaying[1].Length > 0;
            try
            {
                new JournaledStream(replaying[0], replaying[1]).Dispose();
            }
            catch (IOException)
            {
                // The cut may stop the replay mid-way; what matters is what the next start finds.
            }

            second.Crash();
            interrupted += journalLeft && second.Crashed ? 1 : 0;
            var third = new CrashableDisk(seed, long.MaxValue);
            var survived = replaying.Select(f => third.Open(f.Name, f.DurableBytes)).ToArray();
            using var reopened = new PredictionLogStore(
                new PredictionLogOptions { CommitInterval = TimeSpan.Zero }, () => DurableLiteDatabase.Open(new JournaledStream(survived[0], survived[1])));
            var all = reopened.Read(0, int.MaxValue).ToDictionary(r => r.Sequence);
            Assert.Equal(all.Count, reopened.Count);
            foreach (var (sequence, id) in acknowledged)
            {
                Assert.True(all.TryGetValue(sequence, out var record) && record.RequestId == id, $"seed {seed}: acknowledged record {sequence} ({id}) was lost across the interrupted replay");
            }
        }

        figures.Report(_output, $"{interrupted} replays were themselves cut");
        Assert.True(interrupted > Trials / 20, $"only {interrupted} replays were cut: the suite does not test what it says");
    }

    /// <summary>Two producers append until the power goes; returns what was acknowledged before the cut.</summary>
    private static async Task<(ConcurrentDictionary<long, string> Acknowledged, bool MidStream)> RunLogAsync<TLog, TRecord>(
        CrashableDisk disk, CrashableFile[] files, Random random, Func<PredictionLogOptions, Func<LiteDB.LiteDatabase>, TLog> create, Func<string, int, TRecord> record,
        Action<TLog, long>? acknowledgedBy = null)
        where TLog : DurableLog<TRecord>
        where TRecord : IDurableRecord<TRecord>
    {
        var options = new PredictionLogOptions { BatchSize = random.Next(1, 32), MaxRecords = 1_000_000, CommitInterval = TimeSpan.FromMilliseconds(random.Next(0, 2)) };
        using var log = create(options, () => DurableLiteDatabase.Open(new JournaledStream(files[0], files[1])));
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => log.RunAsync(stop.Token));
        var acknowledged = new ConcurrentDictionary<long, string>();
        var sizes = random.Next();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 40 && !disk.Crashed; i++)
            {
                var id = $"p{p}-r{i}";
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var sequence = await log.AppendAsync(record(id, (sizes + i) % 40 == 0 ? 1_200_000 : 200), timeout.Token);
                if (!disk.Crashed)
                {
                    acknowledged[sequence] = id;
                    acknowledgedBy?.Invoke(log, sequence);
                }
            }
        }))).WaitAsync(TimeSpan.FromSeconds(120));
        var midStream = disk.Crashed;
        disk.Crash();
        await stop.CancelAsync();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        return (acknowledged, midStream);
    }

    private static TLog ReopenLog<TLog>(CrashableDisk disk, CrashableFile[] files, int seed, Func<PredictionLogOptions, Func<LiteDB.LiteDatabase>, TLog> create)
    {
        var after = new CrashableDisk(seed, long.MaxValue);
        var survived = files.Select(f => after.Open(f.Name, f.DurableBytes)).ToArray();
        return create(new PredictionLogOptions { CommitInterval = TimeSpan.Zero }, () => DurableLiteDatabase.Open(new JournaledStream(survived[0], survived[1])));
    }

    private static async Task AssertTakesANewRecordAsync<TRecord>(DurableLog<TRecord> log, TRecord record, int seed)
        where TRecord : IDurableRecord<TRecord>
    {
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => log.RunAsync(stop.Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var expected = log.Acknowledged + 1;
        Assert.True(expected == await log.AppendAsync(record, timeout.Token), $"seed {seed}: the reopened log did not number a new record after its last");
        await stop.CancelAsync();
        await writer;
    }

    private static PredictionRecord Prediction(string id, int inputBytes) => new()
    {
        RequestId = id, Model = "hey_jarvis", Version = 1, Timestamp = DateTimeOffset.UnixEpoch, LatencyMicroseconds = 123, Protocol = "v2-http",
        Outputs = [new PredictionOutputSummary("53", [1, 1], [0.25])],
        Inputs = [new PredictionInputSample("x.1", "FP32", [1, inputBytes / 4], new byte[inputBytes / 4 * 4])],
    };

    private static OutboxMessage Outbox(string id, int payloadBytes) => new() { Topic = id, Payload = new byte[payloadBytes] };

    /// <summary>How many cuts each suite made, and how many landed mid-stream (before the producers were done).</summary>
    private sealed class Figures(string suite)
    {
        private int _trials;
        private int _midStream;
        private long _acknowledged;

        public void Count(bool midStream, int acknowledged)
        {
            _trials++;
            _midStream += midStream ? 1 : 0;
            _acknowledged += acknowledged;
        }

        public void Report(ITestOutputHelper output, string? more = null)
        {
            output.WriteLine($"{suite}: {_trials} cuts, {_midStream} mid-stream, {_acknowledged} acknowledged records checked, 0 lost{(more is null ? "" : "; " + more)}");
            Assert.Equal(Trials, _trials);
            Assert.True(_midStream > _trials / 2, $"{suite}: only {_midStream} of {_trials} cuts landed mid-stream");
        }
    }
}
