using System.Collections.Concurrent;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Storage;
using EdgeInference.Tests.Storage;
using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>The prediction log keeps every record it acknowledged, through crashes, within its bound.</summary>
public sealed class PredictionLogTests
{
    [Fact]
    public async Task Log_CrashAtRandomWrites_KeepsEveryAcknowledgedRecordAndStaysSound()
    {
        var trials = 0;
        var acknowledgedSurvivors = 0;
        for (var seed = 1; seed <= 40; seed++)
        {
            var random = new Random(seed);
            var disk = new CrashableDisk(seed, crashAtWrite: random.Next(5, 600));
            string[] names = ["predictions.db", "predictions.db.journal"];
            var files = names.Select(name => disk.Open(name)).ToArray();
            var options = new PredictionLogOptions { BatchSize = random.Next(1, 32), MaxRecords = 1_000_000, CommitInterval = TimeSpan.FromMilliseconds(random.Next(0, 3)) };
            var store = new PredictionLogStore(options, () => DurableLiteDatabase.Open(new JournaledStream(files[0], files[1])));
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(() => store.RunAsync(stop.Token));

            // Producers append until the power goes; an acknowledgement counts only if it came before the crash.
            var acknowledged = new ConcurrentDictionary<long, string>();
            var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                for (var i = 0; i < 200 && !disk.Crashed; i++)
                {
                    var id = $"p{p}-r{i}";
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    var sequence = await store.AppendAsync(Record(id), timeout.Token);
                    if (!disk.Crashed)
                    {
                        acknowledged[sequence] = id;
                    }
                }
            })).ToArray();
            try
            {
                await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException) when (writer.IsFaulted)
            {
                Assert.Fail($"seed {seed}: the log writer failed: {writer.Exception}");
            }
            disk.Crash();
            await stop.CancelAsync();
            await writer.WaitAsync(TimeSpan.FromSeconds(30));

            // Reopen what survived on the disk: the journal is replayed or discarded; LiteDB's log was in memory and is gone.
            var after = new CrashableDisk(seed, long.MaxValue);
            var survived = files.Select(f => after.Open(f.Name, f.DurableBytes)).ToArray();
            using var reopened = new PredictionLogStore(
                new PredictionLogOptions { CommitInterval = TimeSpan.Zero },
                () => DurableLiteDatabase.Open(new JournaledStream(survived[0], survived[1])));
            var all = reopened.Read(0, int.MaxValue).ToDictionary(r => r.Sequence);
            Assert.Equal(all.Count, reopened.Count);
            foreach (var (sequence, id) in acknowledged)
            {
                Assert.True(all.TryGetValue(sequence, out var record), $"seed {seed}: acknowledged record {sequence} ({id}) was lost");
                Assert.Equal(id, record.RequestId);
                Assert.Equal([0.25, 0.75], record.Outputs[0].Values);
            }

            // Sound: it takes new records after recovery, numbered after the last one that survived.
            using var resume = new CancellationTokenSource();
            var resumed = Task.Run(() => reopened.RunAsync(resume.Token));
            using var appendTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(all.Keys.DefaultIfEmpty(0).Max() + 1, await reopened.AppendAsync(Record("after"), appendTimeout.Token));
            await resume.CancelAsync();
            await resumed;
            trials++;
            acknowledgedSurvivors += acknowledged.Count;
        }

        Assert.Equal(40, trials);
        Assert.True(acknowledgedSurvivors > 100, $"only {acknowledgedSurvivors} acknowledgements over all trials: the crash points are too early to test anything");
    }

    [Fact]
    public async Task Log_OverMaxRecordsWithDropOldest_KeepsTheNewestAndCountsTheDropped()
    {
        var directory = TestPaths.NewTempDirectory("log");
        try
        {
            var options = new PredictionLogOptions { MaxRecords = 50, BatchSize = 7, Policy = DurableLogPolicy.DropOldest };
            using (var store = await FillAsync(directory, options, 80))
            {
                Assert.Equal(50, store.Count);
                Assert.Equal(30, store.DroppedByPolicy);
                Assert.Equal(Enumerable.Range(31, 50).Select(i => (long)i), store.Read(0, 1000).Select(r => r.Sequence));
            }

            // Restarted, it carries on from the last sequence number, and still knows which records of a
            // partly dropped batch are gone.
            using var again = await FillAsync(directory, options, 1);
            Assert.Equal(81, again.Acknowledged);
            Assert.Equal(50, again.Count);
            Assert.Equal(Enumerable.Range(32, 50).Select(i => (long)i), again.Read(0, 1000).Select(r => r.Sequence));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Log_OverMaxRecordsWithRejectNew_KeepsTheOldestAndCountsTheRejected()
    {
        var directory = TestPaths.NewTempDirectory("log");
        try
        {
            using var store = await FillAsync(directory, new PredictionLogOptions { MaxRecords = 50, BatchSize = 9, Policy = DurableLogPolicy.RejectNew }, 80);
            Assert.Equal(50, store.Count);
            Assert.Equal(30, store.DroppedByPolicy);
            Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), store.Read(0, 1000).Select(r => r.Sequence));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Log_UnderASteadyStream_CommitsOncePerIntervalNotOncePerFewRecords()
    {
        var directory = TestPaths.NewTempDirectory("log");
        try
        {
            var interval = TimeSpan.FromMilliseconds(100);
            using var store = new PredictionLogStore(new PredictionLogOptions { CommitInterval = interval }, () => DurableLiteDatabase.Open(Path.Combine(directory, "predictions.db")));
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(() => store.RunAsync(stop.Token));

            // A record about every millisecond for 1.5 s, as a busy model's predictions arrive (longer on a loaded
            // machine, whose timers fire late: at least 400 records).
            var streamed = System.Diagnostics.Stopwatch.StartNew();
            var records = 0;
            while (streamed.Elapsed < TimeSpan.FromSeconds(1.5) || records < 400)
            {
                Assert.True(store.TryAppend(Record($"r{records}")));
                records++;
                await Task.Delay(1);
            }

            await AgentHost.WaitUntilAsync(() => store.Acknowledged == records, TimeSpan.FromSeconds(10), "every record acknowledged");
            var commits = store.Commits;
            await stop.CancelAsync();
            await writer;

            // Group commit: one commit per interval (and one for the tail), whatever the rate.
            Assert.True(records > 300, $"only {records} records streamed");
            var most = (int)(streamed.Elapsed / interval) + 3;
            Assert.True(commits <= most, $"{commits} commits for {records} records over {streamed.Elapsed.TotalSeconds:0.0} s; one per {interval.TotalMilliseconds} ms is at most {most}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Agent_LogsEveryPrediction_InGroupCommits_AndSaysSoInItsMetrics()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 3), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var served = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < 40; i++)
            {
                await V2Client.InferJsonAsync(agent.Http, "mlp", [GeneratedModels.Features(i)]);
            }

            // Acknowledged once committed: within a commit interval or two of the last prediction.
            var metrics = "";
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (SampleModelOutputTests.MetricValue(metrics = await agent.Http.GetStringAsync("/metrics", timeout.Token), "edge_prediction_log_acknowledged_sequence") < 40)
            {
                await Task.Delay(50, timeout.Token);
            }

            var commits = SampleModelOutputTests.MetricValue(metrics, "edge_prediction_log_commits_total");
            Assert.Equal(40, SampleModelOutputTests.MetricValue(metrics, "edge_prediction_log_records"));
            Assert.InRange(commits, 1, (int)(served.Elapsed / new PredictionLogOptions().CommitInterval) + 2);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    private static async Task<PredictionLogStore> FillAsync(string directory, PredictionLogOptions options, int records)
    {
        var store = new PredictionLogStore(options, () => DurableLiteDatabase.Open(Path.Combine(directory, "predictions.db")));
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => store.RunAsync(stop.Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var appends = Enumerable.Range(0, records).Select(i => store.AppendAsync(Record($"r{i}"), timeout.Token)).ToArray();
        await Task.WhenAll(appends);
        await stop.CancelAsync();
        await writer;
        return store;
    }

    private static PredictionRecord Record(string id) => new()
    {
        RequestId = id,
        Model = "hey_jarvis",
        Version = 1,
        Timestamp = DateTimeOffset.UnixEpoch,
        LatencyMicroseconds = 123,
        Protocol = "v2-http",
        Outputs = [new PredictionOutputSummary("53", [1, 2], [0.25, 0.75])],
    };
}
