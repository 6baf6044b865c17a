using System.Diagnostics;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Storage;
using EdgeInference.Testing;

namespace EdgeInference.Benchmarks;

/// <summary>
/// Store-and-forward throughput: a prediction log holding a backlog (as after hours offline) is forwarded by
/// the AOT agent to Debian's mosquitto at QoS 1, and a subscriber counts the records as they arrive.
/// </summary>
internal static class ForwardingThroughput
{
    public static async Task PrintAsync(string binary, string work, int records)
    {
        var data = Path.Combine(work, "forward-data");
        var models = Path.Combine(work, "forward-models");
        Directory.CreateDirectory(models);
        using (var log = new PredictionLogStore(new PredictionLogOptions { MaxRecords = records * 2L }, () => DurableLiteDatabase.Open(Path.Combine(Directory.CreateDirectory(data).FullName, "predictions.db"))))
        using (var stop = new CancellationTokenSource())
        {
            var writer = log.RunAsync(stop.Token);
            for (var i = 0; i < records; i++)
            {
                log.TryAppend(new PredictionRecord
                {
                    RequestId = $"req-{i}", Model = "hey_jarvis", Version = 1, Timestamp = DateTimeOffset.UtcNow, LatencyMicroseconds = 180, Protocol = "v2-http",
                    Outputs = [new PredictionOutputSummary("output", [1, 1], [0.0123])],
                });
                if (i % 10_000 == 9_999)
                {
                    while (log.Acknowledged < i + 1)
                    {
                        await Task.Delay(10);
                    }
                }
            }

            await stop.CancelAsync();
            await writer;
        }

        Console.WriteLine("| batch (records per message) | records/s, log → AOT agent → mosquitto (QoS 1) → subscriber | messages/s |");
        Console.WriteLine("| ---: | ---: | ---: |");
        foreach (var batch in new[] { 100, 500, 2000 })
        {
            await using var broker = await MosquittoBroker.StartAsync();
            await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
            var copy = Path.Combine(work, $"forward-data-{batch}");
            TestPaths.CopyDirectory(data, copy);
            var port = FreePort.Next();
            using var agent = AgentProcess.Start(binary,
                ["--models", models, "--data", copy, "--urls", $"http://127.0.0.1:{port}", "--mqtt", broker.Url, "--device-id", "bench",
                 $"--Mqtt:PredictionBatchSize={batch}", "--Mqtt:BacklogRecordsPerSecond=100000000"], port);
            await recorder.WaitForAsync(r => r.PredictionRecordCount > 0, TimeSpan.FromSeconds(60), "the first batch");
            var clock = Stopwatch.StartNew();
            var first = recorder.PredictionRecordCount;
            await recorder.WaitForAsync(r => r.PredictionRecordCount >= records, TimeSpan.FromMinutes(5), "every record");
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"| {batch} | {(records - first) / seconds:0} | {(records - first) / (double)batch / seconds:0} |");
            await agent.TerminateAsync(TimeSpan.FromSeconds(15));
        }

        await PrintInferenceWhileForwardingAsync(binary, work, data, records);
    }

    /// <summary>
    /// Inference latency (hey_jarvis, HTTP JSON, one client) with the broker down and the backlog held, then while the
    /// backlog is forwarded at the default pace, then after it has gone: what forwarding adds to p50 and p99.
    /// </summary>
    private static async Task PrintInferenceWhileForwardingAsync(string binary, string work, string data, int records)
    {
        var models = Path.Combine(work, "latency-models");
        TestPaths.CopyDirectory(Path.Combine(TestPaths.SampleModels, "hey_jarvis"), Path.Combine(models, "hey_jarvis"));
        var copy = Path.Combine(work, "forward-data-latency");
        TestPaths.CopyDirectory(data, copy);
        var brokerPort = FreePort.Next();
        var port = FreePort.Next();
        using var agent = AgentProcess.Start(binary,
            ["--models", models, "--data", copy, "--urls", $"http://127.0.0.1:{port}", "--mqtt", $"mqtt://127.0.0.1:{brokerPort}", "--device-id", "bench",
             "--Mqtt:ReconnectMaxDelay=00:00:00.500", "--Agent:PredictionLog:Enabled=true"], port);
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        var body = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, 1))]));
        async Task<double> InferAsync()
        {
            var started = Stopwatch.GetTimestamp();
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await agent.Http.PostAsync(new Uri("/v2/models/hey_jarvis/infer", UriKind.Relative), content);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            return Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        for (var i = 0; i < 2000; i++)
        {
            await InferAsync();
        }

        var offline = new List<double>();
        for (var i = 0; i < 4000; i++)
        {
            offline.Add(await InferAsync());
        }

        await using var broker = await MosquittoBroker.StartAsync(brokerPort);
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await recorder.WaitForAsync(r => r.PredictionRecordCount > 0, TimeSpan.FromSeconds(60), "the first batch");
        var during = new List<double>();
        while (recorder.PredictionRecordCount < records)
        {
            during.Add(await InferAsync());
        }

        var after = new List<double>();
        for (var i = 0; i < 4000; i++)
        {
            after.Add(await InferAsync());
        }

        Console.WriteLine();
        Console.WriteLine("| hey_jarvis over HTTP JSON, one client | requests | p50 µs | p99 µs |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (var (name, latencies) in new[] { ("broker down, backlog held", offline), ("while forwarding the backlog (default pace)", during), ("after the backlog", after) })
        {
            latencies.Sort();
            Console.WriteLine($"| {name} | {latencies.Count} | {latencies[latencies.Count / 2]:0} | {latencies[(int)(latencies.Count * 0.99)]:0} |");
        }

        await agent.TerminateAsync(TimeSpan.FromSeconds(15));
    }
}
