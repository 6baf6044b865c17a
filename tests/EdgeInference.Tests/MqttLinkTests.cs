using System.Text.Json.Nodes;
using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Storage;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EdgeInference.Tests;

/// <summary>The agent's MQTT link against real brokers: MQTTnet's in-process server and Debian's mosquitto.</summary>
public sealed class MqttLinkTests : IDisposable
{
    private const string Device = "dev-1";
    private readonly string _models = GeneratedModels.Repository(("scorer", 1, OnnxModelBuilder.Mlp(512, [16], seed: 3), null));
    private readonly ITestOutputHelper _output;

    public MqttLinkTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_models, recursive: true);

    [Fact]
    public async Task Agent_OnTheInProcessBroker_PublishesRetainedStatusTelemetryAndEveryPredictionInOrder()
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device, "--telemetry-interval", "00:00:00.200");

        for (var i = 0; i < 30; i++)
        {
            await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: i)]);
        }

        await recorder.WaitForAsync(r => r.DistinctPredictionCount >= 30, TimeSpan.FromSeconds(20), "30 prediction records");
        await recorder.WaitForAsync(
            r => r.Payloads(Device, "telemetry").Any(t => t["models"]!.AsArray().Any(m => m!["requests_total"]!.GetValue<long>() == 30)),
            TimeSpan.FromSeconds(20), "telemetry counting the 30 requests");

        var status = recorder.Messages.Last(m => m.Topic == $"edge/{Device}/status");
        var statusJson = JsonNode.Parse(status.Payload)!;
        Assert.Equal("online", statusJson["state"]!.GetValue<string>());
        Assert.Equal(1, statusJson["schema_version"]!.GetValue<int>());
        Assert.Contains(statusJson["models"]!.AsArray(), m => m!["model"]!.GetValue<string>() == "scorer" && m["state"]!.GetValue<string>() == "READY"
            && m["execution_provider"]!.GetValue<string>() == "CPU");
        Assert.True(statusJson["hardware"]!["cpu_count"]!.GetValue<int>() >= 1);

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), recorder.PredictionSequences(Device).Distinct());
        var record = recorder.Payloads(Device, "predictions")[0]["records"]![0]!;
        Assert.Equal($"{Device}:1", record["id"]!.GetValue<string>());
        Assert.Equal("scorer", record["model"]!.GetValue<string>());
        Assert.Single(record["outputs"]!.AsArray());

        // The first window to count all 30 holds the last of them (later windows have none, so no latency).
        var telemetry = recorder.Payloads(Device, "telemetry").First(t => t["models"]!.AsArray().Any(m => m!["requests_total"]!.GetValue<long>() == 30));
        var model = telemetry["models"]![0]!;
        Assert.True(model["latency_ms"]!["p50"]!.GetValue<double>() > 0);
        Assert.True(telemetry["process"]!["rss_bytes"]!.GetValue<long>() > 1_000_000);
        Assert.True(telemetry["device"]!["disk_free_bytes"]!.GetValue<long>() > 0);
        Assert.Empty(broker.Errors);
    }

    [Theory]
    [InlineData("5", true)]
    [InlineData("3.1.1", true)]
    [InlineData("5", false)]
    public async Task ACommandSentWhileTheAgentIsAway_ReachesItWhenItReturns_OnlyWithAPersistentSession(string protocol, bool persistent)
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        string[] args = ["--mqtt", broker.Url, "--device-id", Device, "--mqtt-protocol", protocol, $"--Mqtt:PersistentSession={persistent}"];
        await using (var first = await AgentHost.StartAsync(_models, null, args))
        {
            await recorder.WaitForAsync(r => r.Payloads(Device, "status").Count > 0, TimeSpan.FromSeconds(20), "the first status");
        }

        // Away: the fleet's command arrives at the broker while nothing of the agent is connected.
        var now = DateTimeOffset.UtcNow;
        var command = new EdgeInference.Contracts.CommandMessage { Id = "reload-away", Command = EdgeInference.Contracts.CommandNames.Reload, IssuedAt = now, ExpiresAt = now.AddHours(1) };
        using (var fleet = new MQTTnet.MqttClientFactory().CreateMqttClient())
        {
            await fleet.ConnectAsync(new MQTTnet.MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("fleet").Build());
            await fleet.PublishAsync(new MQTTnet.MqttApplicationMessageBuilder().WithTopic($"edge/{Device}/commands/reload")
                .WithPayload(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(command, EdgeInference.Contracts.ContractJsonContext.Default.CommandMessage))
                .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        await using var back = await AgentHost.StartAsync(_models, null, args);
        await recorder.WaitForAsync(r => r.Payloads(Device, "status").Count > 1, TimeSpan.FromSeconds(20), "the status after the return");
        if (persistent)
        {
            await recorder.WaitForAsync(r => r.Payloads(Device, "replies/reload-away").Any(p => p["final"]!.GetValue<bool>()), TimeSpan.FromSeconds(20), "the reply to the command queued for the session");
        }
        else
        {
            // A clean session starts empty: the command is gone until the fleet sends it again.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Empty(recorder.Payloads(Device, "replies/reload-away"));
        }
    }

    [Fact]
    public async Task NewModelVersion_WhileConnected_IsAnnouncedInANewRetainedStatus()
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device);
        await recorder.WaitForAsync(r => r.Payloads(Device, "status").Count > 0, TimeSpan.FromSeconds(20), "the first status");

        OnnxModelBuilder.Write(Path.Combine(_models, "scorer", "2"), OnnxModelBuilder.Mlp(512, [16], seed: 4));

        await recorder.WaitForAsync(
            r => r.Payloads(Device, "status").Any(s => s["models"]!.AsArray().Any(m => m!["version"]!.GetValue<long>() == 2 && m["state"]!.GetValue<string>() == "READY")),
            TimeSpan.FromSeconds(20), "a status with version 2");

        // A dashboard that subscribes later gets the current status straight away, as the retained message.
        await using var late = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await late.WaitForAsync(r => r.Messages.Any(m => m.Topic == $"edge/{Device}/status"), TimeSpan.FromSeconds(10), "the retained status");
        var retained = late.Messages.First(m => m.Topic == $"edge/{Device}/status");
        Assert.True(retained.Retained);
        Assert.Contains(JsonNode.Parse(retained.Payload)!["models"]!.AsArray(), m => m!["version"]!.GetValue<long>() == 2);
    }

    [Fact]
    public async Task PublishedMessages_ValidateAgainstTheJsonSchemasInDocs_WhichRefuseABrokenOne()
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device,
            "--telemetry-interval", "00:00:00.200", "--drift-interval", "00:00:00.200", "--Agent:PredictionLog:InputSampleRate=1", "--Drift:MinSamples=1");
        await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: 1)]);
        await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: 2)]);
        await recorder.WaitForAsync(
            r => r.PredictionSequences(Device).Count > 0 && r.Payloads(Device, "telemetry").Any(t => t["models"]!.AsArray().Count > 0) && r.Payloads(Device, "drift").Count > 0,
            TimeSpan.FromSeconds(20), "predictions, telemetry and drift");
        await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: 3)]);
        await recorder.WaitForAsync(r => r.Payloads(Device, "drift").Any(d => d["state"]!.GetValue<string>() == "scored"), TimeSpan.FromSeconds(20), "a scored drift window");

        foreach (var kind in new[] { "status", "telemetry", "predictions", "drift" })
        {
            var payloads = recorder.Messages.Where(m => m.Topic == $"edge/{Device}/{kind}").Select(m => m.Payload).ToList();
            await SchemaCheck.AssertValidAsync(kind, payloads, broken => broken.Remove("device_id"), "device_id");
        }

        Assert.Contains(recorder.Payloads(Device, "predictions")[0]["records"]!.AsArray(), r => r!["inputs"] is JsonArray { Count: 1 });
    }

    [Fact]
    public async Task BrokerStoppedUnderLoad_ThenRestarted_EveryLoggedRecordArrivesInOrderWithDuplicatesBoundedByOneBatch()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var agent = await AgentHost.StartAsync(_models, null,
            "--mqtt", broker.Url, "--device-id", Device, "--Mqtt:PredictionBatchSize=40", "--Mqtt:ReconnectMaxDelay=00:00:01");
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();
        using var load = new CancellationTokenSource();
        var sent = 0;
        var paused = false;
        var client = Task.Run(async () =>
        {
            // Steady load, bounded so the test's volume does not depend on the machine's speed.
            while (!load.IsCancellationRequested && sent < 3000)
            {
                if (!Volatile.Read(ref paused))
                {
                    await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: sent)]);
                    Interlocked.Increment(ref sent);
                }

                await Task.Delay(1);
            }
        });

        await recorder.WaitForAsync(r => r.DistinctPredictionCount >= 40, TimeSpan.FromSeconds(20), "the first batches");
        // mosquitto may lose what it has in flight to a subscriber when it is itself stopped, which is not what
        // is under test here: let the subscriber catch up first, then stop the broker and go on loading.
        Volatile.Write(ref paused, true);
        var before = Volatile.Read(ref sent);
        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= before, TimeSpan.FromSeconds(10), "the log to catch up");
        await recorder.WaitForAsync(r => r.DistinctPredictionCount >= log.Acknowledged, TimeSpan.FromSeconds(20), "the subscriber to catch up");
        await broker.StopAsync();
        Volatile.Write(ref paused, false);
        await Task.Delay(TimeSpan.FromSeconds(2)); // offline, requests go on
        broker.Start();
        await broker.WaitListeningAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await load.CancelAsync();
        await client;

        await AgentHost.WaitUntilAsync(() => log.Acknowledged >= sent, TimeSpan.FromSeconds(10), "the log to acknowledge every request");
        var logged = log.Acknowledged;
        var forwarding = agent.App.Services.GetRequiredService<ForwardingService>();
        try
        {
            await recorder.WaitForAsync(r => r.DistinctPredictionCount >= logged, TimeSpan.FromSeconds(60), $"all {logged} logged records");
        }
        catch (TimeoutException ex)
        {
            var seen = recorder.PredictionSequences(Device).ToHashSet();
            var missing = Enumerable.Range(1, (int)logged).Where(i => !seen.Contains(i)).ToArray();
            throw new TimeoutException($"{ex.Message}; forwarded {forwarding.RecordsSent}, checkpoint {log.ReadCheckpoint(ForwardingService.CheckpointName)}, missing {missing.Length}: {string.Join(",", missing.Take(10))}…{missing.LastOrDefault()}", ex);
        }

        var arrived = recorder.PredictionSequences(Device);
        var firstSeen = arrived.Distinct().ToArray();
        Assert.Equal(Enumerable.Range(1, (int)logged).Select(i => (long)i), firstSeen); // all of them, in order
        Assert.InRange(arrived.Count - firstSeen.Length, 0, 40 * agent.App.Services.GetRequiredService<MqttLink>().Connections);
        Assert.True(agent.App.Services.GetRequiredService<MqttLink>().Connections >= 2, "the link reconnected");
    }

    [Fact]
    public async Task AotAgentKilledMidStream_ThenRestarted_ForwardsEveryDurableRecord_AndItsLastWillSaysOffline()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        var data = TestPaths.NewTempDirectory("kill-data");
        try
        {
            var port = FreePort.Next();
            string[] args =
            [
                "--models", _models, "--data", data, "--urls", $"http://127.0.0.1:{port}", "--mqtt", broker.Url, "--device-id", Device,
                "--Mqtt:PredictionBatchSize=25", "--Mqtt:BacklogRecordsPerSecond=400",
            ];
            using (var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), args, port))
            {
                await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
                for (var i = 0; i < 400; i++)
                {
                    await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: i)]);
                }

                // Forwarding is paced, so a backlog is still going out when the agent dies.
                await recorder.WaitForAsync(r => r.DistinctPredictionCount >= 50, TimeSpan.FromSeconds(20), "forwarding to start");
                agent.KillHard();
            }

            await recorder.WaitForAsync(r => r.Payloads(Device, "status").LastOrDefault()?["state"]!.GetValue<string>() == "offline", TimeSpan.FromSeconds(20), "the last will");
            var before = recorder.PredictionSequences(Device).Distinct().Count();
            long durable;
            using (var log = new PredictionLogStore(new PredictionLogOptions(), () => DurableLiteDatabase.Open(Path.Combine(data, "predictions.db"))))
            {
                durable = log.Acknowledged;
            }

            Assert.True(before < durable, $"the kill came mid-stream ({before} of {durable} forwarded)");
            using (var restarted = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), args, port))
            {
                await restarted.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
                await recorder.WaitForAsync(r => r.DistinctPredictionCount >= durable, TimeSpan.FromSeconds(60), $"all {durable} durable records");
                await recorder.WaitForAsync(r => r.Payloads(Device, "status").Last()["state"]!.GetValue<string>() == "online", TimeSpan.FromSeconds(10), "online again");
                Assert.Equal(0, await restarted.TerminateAsync(TimeSpan.FromSeconds(15)));
            }

            var arrived = recorder.PredictionSequences(Device);
            Assert.Equal(Enumerable.Range(1, (int)durable).Select(i => (long)i), arrived.Distinct());
            Assert.InRange(arrived.Count - durable, 0, 25);
            Assert.Equal("offline", recorder.Payloads(Device, "status").Last()["state"]!.GetValue<string>()); // said on SIGTERM
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>R2: ten kill -9s in a row, each mid-stream (forwarding is paced, so a backlog is always going out).</summary>
    [Fact]
    public async Task AotAgentKilledTenTimesInARow_ForwardsEveryDurableRecordInOrder_WithDuplicatesBoundedByTheInFlightWindow()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        var data = TestPaths.NewTempDirectory("kills-data");
        const int Kills = 10;
        const int Batch = 25;
        try
        {
            var port = FreePort.Next();
            string[] args =
            [
                "--models", _models, "--data", data, "--urls", $"http://127.0.0.1:{port}", "--mqtt", broker.Url, "--device-id", Device,
                $"--Mqtt:PredictionBatchSize={Batch}", "--Mqtt:BacklogRecordsPerSecond=300",
            ];
            var random = new Random(10);
            for (var kill = 0; kill < Kills; kill++)
            {
                using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), args, port);
                await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
                for (var i = 0; i < 150; i++)
                {
                    await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: (kill * 1000) + i)]);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(250, 700)));
                agent.KillHard();
            }

            long durable;
            using (var log = new PredictionLogStore(new PredictionLogOptions(), () => DurableLiteDatabase.Open(Path.Combine(data, "predictions.db"))))
            {
                durable = log.Acknowledged;
            }

            Assert.True(recorder.DistinctPredictionCount < durable, "every kill came after forwarding had caught up: nothing was tested");
            using (var last = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), args, port))
            {
                await last.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
                await recorder.WaitForAsync(r => r.DistinctPredictionCount >= durable, TimeSpan.FromSeconds(90), $"all {durable} durable records");
                Assert.Equal(0, await last.TerminateAsync(TimeSpan.FromSeconds(15)));
            }

            var arrived = recorder.PredictionSequences(Device);
            Assert.Equal(Enumerable.Range(1, (int)durable).Select(i => (long)i), arrived.Distinct()); // every one, first seen in order
            Assert.InRange(arrived.Count - durable, 0, Batch * Kills); // a resend after a kill is at most the batch in flight
            Assert.True(durable >= 600, $"only {durable} of {Kills * 150} answered records were durable across the kills");
            _output.WriteLine($"{Kills} kills in a row: {durable} durable records of {Kills * 150} answered, all delivered in order, {arrived.Count - durable} duplicates (at most {Batch * Kills})");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>
    /// R2: a 24-hour outage on a fake clock: the broker is away while the agent serves two requests and writes its
    /// telemetry and drift windows every five simulated minutes for a day; when the broker is back, every prediction
    /// and every window arrives, in order, and the outbox dropped nothing.
    /// </summary>
    [Fact]
    public async Task ADayLongBrokerOutage_OnAFakeClock_LosesNothing_AndDeliversEverythingInOrderWhenTheBrokerReturns()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await broker.StopAsync();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var agent = await AgentHost.StartAsync(_models, null, services => services.AddSingleton<TimeProvider>(clock),
            "--mqtt", broker.Url, "--device-id", Device, "--telemetry-interval", "00:05:00", "--drift-interval", "00:05:00", "--Mqtt:ReconnectMaxDelay=00:01:00");
        var log = agent.App.Services.GetRequiredService<PredictionLogStore>();
        const int Steps = 24 * 12;
        for (var step = 0; step < Steps; step++)
        {
            for (var i = 0; i < 2; i++)
            {
                await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: (step * 2) + i)]);
            }

            clock.Advance(TimeSpan.FromMinutes(5));
            await Task.Delay(5); // let the timers that fired run
        }

        await AgentHost.WaitUntilAsync(() => { clock.Advance(TimeSpan.FromSeconds(1)); return log.Acknowledged == Steps * 2; }, TimeSpan.FromSeconds(30), "every prediction logged");
        var outbox = agent.App.Services.GetRequiredService<OutboxStore>();
        var windows = outbox.Acknowledged;
        Assert.True(windows >= Steps, $"only {windows} telemetry and drift windows in a day of five-minute windows");

        broker.Start();
        await broker.WaitListeningAsync();
        await recorder.WaitForAsync(r => { clock.Advance(TimeSpan.FromSeconds(5)); return r.DistinctPredictionCount >= Steps * 2 && r.Payloads(Device, "telemetry").Count + r.Payloads(Device, "drift").Count >= windows; },
            TimeSpan.FromSeconds(90), "the day's predictions and windows");

        Assert.Equal(Enumerable.Range(1, Steps * 2).Select(i => (long)i), recorder.PredictionSequences(Device).Distinct());
        var telemetry = recorder.Payloads(Device, "telemetry").Select(t => t["timestamp"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(telemetry.Order(), telemetry);
        Assert.True(telemetry[^1] - telemetry[0] >= TimeSpan.FromHours(23.5), $"the telemetry spans {telemetry[^1] - telemetry[0]}, not the day");
        Assert.Equal(0, outbox.DroppedByPolicy + outbox.DroppedQueueFull);
        Assert.Equal(0, log.DroppedByPolicy + log.DroppedQueueFull);
        _output.WriteLine($"a 24-hour outage: {Steps * 2} predictions and {windows} telemetry and drift windows kept and delivered in order, 0 dropped");
    }

    [Fact]
    public async Task AotAgentAnsweringOnlyDurablePredictions_KilledWhileTheBrokerIsDown_DeliversEveryAnsweredPrediction()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await broker.StopAsync();
        var data = TestPaths.NewTempDirectory("before-reply-data");
        try
        {
            var port = FreePort.Next();
            string[] args =
            [
                "--models", _models, "--data", data, "--urls", $"http://127.0.0.1:{port}", "--mqtt", broker.Url, "--device-id", Device,
                "--Agent:PredictionLog:Durability=BeforeReply", "--Mqtt:ReconnectMaxDelay=00:00:01",
            ];
            var answered = 0;
            foreach (var round in new[] { 0, 1 })
            {
                using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), args, port);
                await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
                await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
                {
                    await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: (round * 1000) + i)]);
                    Interlocked.Increment(ref answered);
                });

                // The moment the last answer is in, the agent dies: every answered prediction must already be on disk.
                agent.KillHard();
            }

            broker.Start();
            await broker.WaitListeningAsync();
            using var restarted = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), args, port);
            await restarted.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
            await recorder.WaitForAsync(r => r.DistinctPredictionCount >= answered, TimeSpan.FromSeconds(60), $"all {answered} answered predictions");
            Assert.Equal(600, answered);
            Assert.Equal(Enumerable.Range(1, 600).Select(i => (long)i), recorder.PredictionSequences(Device).Distinct().Order());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task OutboxOverItsCap_KeepsTheNewestMessages_AndTelemetryCountsTheDropped()
    {
        var port = FreePort.Next();
        await using var agent = await AgentHost.StartAsync(_models, null,
            "--mqtt", $"mqtt://127.0.0.1:{port}", "--device-id", Device, "--telemetry-interval", "00:00:00.100",
            "--Mqtt:Outbox:MaxRecords=3", "--Mqtt:Outbox:CommitInterval=00:00:00", "--Mqtt:ReconnectMaxDelay=00:00:00.500");
        var outbox = agent.App.Services.GetRequiredService<OutboxStore>();
        await AgentHost.WaitUntilAsync(() => outbox.DroppedByPolicy >= 5, TimeSpan.FromSeconds(20), "telemetry to overflow the outbox while offline");
        Assert.Equal(3, outbox.Count);

        await using var broker = await MosquittoBroker.StartAsync(port);
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", port);
        await recorder.WaitForAsync(r => r.Payloads(Device, "telemetry").Any(t => t["outbox"]!["dropped"]!.GetValue<long>() >= 5), TimeSpan.FromSeconds(20), "telemetry reporting the drops");
    }

    [Fact]
    public async Task Agent_OverMutualTls_ReachesMosquittoWithTheTestCa()
    {
        using var certificates = new TestCertificates();
        await using var broker = await MosquittoBroker.StartAsync(tls: certificates);
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port, certificates);
        await using var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device,
            "--mqtt-ca", certificates.CaFile, "--mqtt-cert", certificates.ClientCertFile, "--mqtt-key", certificates.ClientKeyFile);

        await recorder.WaitForAsync(r => r.Payloads(Device, "status").Any(s => s["state"]!.GetValue<string>() == "online"), TimeSpan.FromSeconds(20), "the status over TLS");
    }

    [Fact]
    public async Task Agent_OverMqtt311_ReachesMosquitto_ForwardsPredictions_AndSaysOfflineWhenStopped()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using (var agent = await AgentHost.StartAsync(_models, null, "--mqtt", broker.Url, "--device-id", Device, "--mqtt-protocol", "3.1.1"))
        {
            await V2Client.InferJsonAsync(agent.Http, "scorer", [GeneratedModels.Features(seed: 1)]);
            await recorder.WaitForAsync(r => r.DistinctPredictionCount >= 1, TimeSpan.FromSeconds(20), "the prediction over MQTT 3.1.1");
            Assert.Equal("online", recorder.Payloads(Device, "status")[^1]["state"]!.GetValue<string>());
        }

        await recorder.WaitForAsync(r => r.Payloads(Device, "status")[^1]["state"]!.GetValue<string>() == "offline", TimeSpan.FromSeconds(20), "offline after the stop");
    }

    [Fact]
    public async Task Agent_WithBadMqttSettings_StopsWithAMessageNamingEachOne()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            AgentHost.StartAsync(_models, null, "--mqtt", "http://broker", "--device-id", "a/b", "--mqtt-cert", "/nonexistent.pem", "--mqtt-protocol", "4"));

        Assert.Contains(error.Failures, f => f.Contains("'http://broker' is not mqtt://host[:port]", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("--device-id (Mqtt:DeviceId) 'a/b'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("must be 5 or 3.1.1, not '4'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("--mqtt-cert and --mqtt-key", StringComparison.Ordinal));
    }

    [Fact]
    public void ReconnectBackoff_WaitsAtRandomUnderACapThatDoublesToTheMaximum()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), new Random(1));
        var waits = Enumerable.Range(0, 12).Select(_ => backoff.Next()).ToArray();

        for (var i = 0; i < waits.Length; i++)
        {
            Assert.InRange(waits[i], TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(Math.Min(2000, 100 * Math.Pow(2, i))));
        }

        Assert.True(waits.Skip(6).Max() > TimeSpan.FromMilliseconds(400), "the cap grew");
        Assert.True(waits.Distinct().Count() > 6, "the waits are jittered");
        backoff.Reset();
        Assert.True(backoff.Next() <= TimeSpan.FromMilliseconds(100));
    }
}
