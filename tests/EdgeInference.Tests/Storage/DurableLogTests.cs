using EdgeInference.Agent.PredictionLog;
using EdgeInference.Storage;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Storage;

/// <summary>The durable log under records of any size and under failing commits: nothing acknowledged or queued is lost, no waiter hangs.</summary>
public sealed class DurableLogTests : IDisposable
{
    private readonly string _folder = TestPaths.NewTempDirectory("durable-log");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ABatchFarLargerThanALiteDbDocument_IsSplit_AndEveryRecordIsKeptInOrder()
    {
        var path = Path.Combine(_folder, "predictions.db");
        using (var log = new PredictionLogStore(new PredictionLogOptions { CommitInterval = TimeSpan.FromMilliseconds(300) }, () => DurableLiteDatabase.Open(path)))
        {
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(() => log.RunAsync(stop.Token));
            for (var i = 0; i < 24; i++)
            {
                Assert.True(log.TryAppend(Record($"r{i}", inputBytes: 1_500_000)));
            }

            // 24 × 1.5 MB = 36 MB in one group commit: LiteDB refuses a document over about 16 MB.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Assert.Equal(25, await log.AppendAsync(Record("last", 10), timeout.Token));
            Assert.Equal(1, log.Commits);
            await stop.CancelAsync();
            await writer;
        }

        using var reopened = new PredictionLogStore(new PredictionLogOptions(), () => DurableLiteDatabase.Open(path));
        var records = reopened.Read(0, 100);
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal([.. Enumerable.Range(0, 24).Select(i => $"r{i}"), "last"], records.Select(r => r.RequestId));
        Assert.All(records.Take(24), r => Assert.Equal(1_500_000, r.Inputs![0].Data.Length));
        Assert.All(records.Take(24), r => Assert.Equal(63, r.Inputs![0].Data[63]));
    }

    [Fact]
    public async Task ARecordOverTheSizeLimit_IsRefusedAndCounted_AndTheLogGoesOn()
    {
        using var log = new PredictionLogStore(new PredictionLogOptions { CommitInterval = TimeSpan.Zero }, () => DurableLiteDatabase.Open(Path.Combine(_folder, "p.db")));
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => log.RunAsync(stop.Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        Assert.Equal(0, await log.AppendAsync(Record("huge", DurableLog<PredictionRecord>.MaxRecordBytes + 1), timeout.Token));
        Assert.Equal(1, log.DroppedTooLarge);
        Assert.Equal(1, await log.AppendAsync(Record("next", 10), timeout.Token));
        await stop.CancelAsync();
        await writer;
    }

    [Theory]
    [InlineData(FailingStream.Failure.Write)]
    [InlineData(FailingStream.Failure.Flush)]
    public async Task ACommitThatFails_KeepsItsRecords_AndCommitsThemWhenTheWriterRunsAgain(FailingStream.Failure failure)
    {
        var data = new FailingStream();
        var journal = new FailingStream();
        using var log = new PredictionLogStore(new PredictionLogOptions { CommitInterval = TimeSpan.Zero }, () => DurableLiteDatabase.Open(new JournaledStream(data, journal)));
        using var stop = new CancellationTokenSource();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var writer = Task.Run(() => log.RunAsync(stop.Token));
        Assert.Equal(1, await log.AppendAsync(Record("before", 10), timeout.Token));

        // The disk fails: the writer throws (the agent logs it and runs it again a second later); the waiter waits.
        data.Fail = journal.Fail = failure;
        var waiting = log.AppendAsync(Record("during", 10), timeout.Token);
        await Assert.ThrowsAsync<IOException>(() => writer.WaitAsync(timeout.Token));
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, log.CommitFailures);

        data.Fail = journal.Fail = FailingStream.Failure.None;
        writer = Task.Run(() => log.RunAsync(stop.Token));
        Assert.Equal(2, await waiting);
        Assert.Equal(3, await log.AppendAsync(Record("after", 10), timeout.Token));
        Assert.Equal(["before", "during", "after"], log.Read(0, 10).Select(r => r.RequestId));
        await stop.CancelAsync();
        await writer;
    }

    [Fact]
    public async Task AWaitingAppend_IsCommittedAtOnce_NotAfterTheGroupCommitInterval()
    {
        using var log = new PredictionLogStore(new PredictionLogOptions { CommitInterval = TimeSpan.FromSeconds(30) }, () => DurableLiteDatabase.Open(Path.Combine(_folder, "p.db")));
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => log.RunAsync(stop.Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.True(log.TryAppend(Record("queued", 10)));
        await Task.Delay(100);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(2, await log.AppendAsync(Record("waited", 10), timeout.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the waiting append took {watch.Elapsed}");
        Assert.Equal(2, log.Acknowledged);
        await stop.CancelAsync();
        await writer;
    }

    private static PredictionRecord Record(string id, int inputBytes)
    {
        var data = new byte[inputBytes];
        for (var i = 0; i < Math.Min(inputBytes, 64); i++)
        {
            data[i] = (byte)i;
        }

        return new PredictionRecord
        {
            RequestId = id, Model = "m", Version = 1, Timestamp = DateTimeOffset.UnixEpoch, Protocol = "v2-http",
            Outputs = [new PredictionOutputSummary("y", [1], [0.5])],
            Inputs = [new PredictionInputSample("x", "UINT8", [inputBytes], data)],
        };
    }
}
