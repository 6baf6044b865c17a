// The EdgeInference benchmark: the published Native AOT agent (a separate process, as on a device)
// against bare ONNX Runtime in this process, on the same machine and models, in one run.
// Run: ./build.sh --target=Benchmark   (or dotnet run --project tests/EdgeInference.Benchmarks -c Release)
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Benchmarks;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Google.Protobuf;
using Grpc.Net.Client;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var quick = args.Contains("--quick");
if (args.Contains("--forwarding"))
{
    // Only the store-and-forward throughput (needs mosquitto and the published AOT agent).
    var forwardWork = TestPaths.NewTempDirectory("bench-forward");
    try
    {
        await ForwardingThroughput.PrintAsync(TestPaths.AotAgent("linux-x64"), forwardWork, 100_000);
    }
    finally
    {
        Directory.Delete(forwardWork, recursive: true);
    }

    return;
}

if (args.Contains("--durability"))
{
    // Only the prediction log's Durability=BeforeReply against the default, on hey_jarvis (sequential and 8 clients).
    var durabilityWork = TestPaths.NewTempDirectory("bench-durability");
    try
    {
        await DurabilityCost.PrintAsync(TestPaths.AotAgent("linux-x64"), durabilityWork, quick ? 1 : 3, quick ? 400 : 2000);
    }
    finally
    {
        Directory.Delete(durabilityWork, recursive: true);
    }

    return;
}

if (args.Contains("--provisioning"))
{
    // Only the cost of enrolling devices on mosquitto's dynamic-security plugin, by the number of clients.
    await ProvisioningCost.PrintAsync(args.SkipWhile(a => a != "--provisioning").Skip(1).Select(a => int.TryParse(a, out var n) ? n : 0).FirstOrDefault(n => n > 0) is > 0 and var count ? count : 5000);
    return;
}

if (args.Contains("--fleet-scale"))
{
    // Only the fleet on PostgreSQL and a 3-node RabbitMQ cluster: connect, telemetry ingest, a rollout, memory.
    var numbers = args.SkipWhile(a => a != "--fleet-scale").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))
        .Select(a => double.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToList();
    await FleetScaleCost.PrintAsync(numbers.Count > 0 ? (int)numbers[0] : 2000, numbers.Count > 1 ? numbers[1] : 2);
    return;
}

if (args.Contains("--load-cache"))
{
    // Session creation from model.onnx against the optimized-model cache's ORT file, per sample model.
    LoadCacheCost.Print(args.SkipWhile(a => a != "--load-cache").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList());
    return;
}

if (args.Contains("--sensors"))
{
    // One sample through each sensor binding over an emulated bus, and how close software pacing keeps a window.
    await SensorCost.PrintAsync();
    return;
}

if (args.Contains("--quantize"))
{
    // 8-bit quantization of the sample models with espeak-ng speech: size, speed, accuracy per variant, and end to end.
    QuantizationCost.Print();
    return;
}

if (args.Contains("--rollout-pass"))
{
    // What one rollout pass reads, at N devices (default 1,000 and 10,000), on PostgreSQL and LiteDB.
    var sizes = args.SkipWhile(a => a != "--rollout-pass").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))
        .Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToList();
    await RolloutPassCost.PrintAsync(sizes.Count > 0 ? sizes : [1_000, 10_000]);
    return;
}

if (args.Contains("--rollout"))
{
    // Only a staged rollout over ten in-process agents: wall time and where install time goes.
    await RolloutCost.PrintAsync(10);
    return;
}

if (args.Contains("--drift"))
{
    // Only the cost of drift sketches on the hot path, per value and against inference.
    await DriftCost.PrintAsync(TestPaths.SampleModels, 20000);
    return;
}

if (args.Contains("--pipeline"))
{
    // Only the agent's in-process request pipeline, on the sample hey_jarvis model (for iterating on the hot path).
    await PipelineCost.PrintAsync(args.Length > 1 ? args[1] : TestPaths.SampleModels, 20000);
    return;
}

if (args.Contains("--sizes"))
{
    // Only HTTP JSON against gRPC raw on identity models of growing input size: where gRPC starts to pay off.
    var sizesWork = TestPaths.NewTempDirectory("bench-sizes");
    try
    {
        await InputSizeLatency.PrintAsync(TestPaths.AotAgent("linux-x64"), sizesWork, 3, quick ? 500 : 2000);
    }
    finally
    {
        Directory.Delete(sizesWork, recursive: true);
    }

    return;
}

if (args.Contains("--latency"))
{
    // Only hey_jarvis's per-request latency, in interleaved rounds (for iterating on the request path).
    // --agent-env NAME=VALUE passes an environment variable to the agent; --model-config JSON is hey_jarvis's config.json;
    // --only NAME measures one path (and bare ORT).
    var environment = new Dictionary<string, string>();
    string? only = null;
    string? modelConfig = null;
    for (var i = 0; i + 1 < args.Length; i++)
    {
        if (args[i] == "--model-config")
        {
            modelConfig = args[i + 1];
        }

        if (args[i] == "--agent-env" && args[i + 1].Split('=', 2) is [var name, var value])
        {
            environment[name] = value;
        }

        if (args[i] == "--only")
        {
            only = args[i + 1];
        }
    }

    var latencyWork = TestPaths.NewTempDirectory("bench-latency");
    try
    {
        await RequestLatency.PrintAsync(TestPaths.AotAgent("linux-x64"), latencyWork, 5, quick ? 1000 : 3000, environment, only, modelConfig);
    }
    finally
    {
        Directory.Delete(latencyWork, recursive: true);
    }

    return;
}

var latencyCount = quick ? 300 : 3000;
var throughputSeconds = quick ? 2 : 6;
var binary = TestPaths.AotAgent("linux-x64");
var work = TestPaths.NewTempDirectory("bench");
try
{
    // A repository with the two sample models under test and the generated ~4 MB MLP, each with and without batching.
    var repository = Path.Combine(work, "models");
    foreach (var model in new[] { "hey_jarvis", "embedding" })
    {
        Directory.CreateDirectory(Path.Combine(repository, model, "1"));
        File.Copy(Path.Combine(TestPaths.SampleModels, model, "1", "model.onnx"), Path.Combine(repository, model, "1", "model.onnx"));
    }

    const string Batching = """{ "batching": { "max_batch_size": 8, "max_queue_delay_microseconds": 200 } }""";
    var mlp = OnnxModelBuilder.Mlp(512, [1024, 512], seed: 11);
    OnnxModelBuilder.Write(Path.Combine(repository, "mlp", "1"), mlp);
    OnnxModelBuilder.Write(Path.Combine(repository, "mlp_batched", "1"), mlp, Batching);
    TestPaths.CopyDirectory(Path.Combine(repository, "embedding"), Path.Combine(repository, "embedding_batched"));
    File.WriteAllText(Path.Combine(repository, "embedding_batched", "config.json"), Batching);

    using var served = await BenchmarkAgent.StartAsync(binary, repository, Path.Combine(work, "data"));
    var (agent, http, grpc) = (served.Process, served.Http, served.Grpc);

    Console.WriteLine($"# EdgeInference benchmark, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, {(quick ? "quick" : "full")} run");
    Console.WriteLine();
    Console.WriteLine("## Per-request latency, one client, sequential (µs)");
    Console.WriteLine();
    Console.WriteLine("| model | path | p50 | p99 | p50 over bare ORT | agent-side mean (validate + run) |");
    Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
    var allocation = new List<string>();
    var echo = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, 1))]));
    var floor = await LatencyStats.MeasureAsync(500, latencyCount, async () =>
    {
        using var content = new ByteArrayContent(echo);
        using var response = await http.PostAsync("/v2/health/live", content);
        await response.Content.ReadAsByteArrayAsync();
    });
    Console.WriteLine($"| (floor) | HTTP POST of hey_jarvis's JSON to a fixed 405 reply | {floor.P50:0} | {floor.P99:0} | | |");
    foreach (var model in new[] { "hey_jarvis", "embedding" })
    {
        using var bare = new BareOrt(Path.Combine(repository, model, "1", "model.onnx"));
        var input = model == "hey_jarvis"
            ? NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, 1))
            : NamedTensor.Floats("input_1", [1, 76, 32, 1], NamedTensor.RandomFloats(2432, 1));
        var bareStats = await LatencyStats.MeasureAsync(500, latencyCount, () => { bare.Run([input]); return Task.CompletedTask; });
        var json = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([input]));
        var grpcRequest = RawInferRequest.For(model, input);

        async Task Json()
        {
            using var content = new ByteArrayContent(json);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync($"/v2/models/{model}/infer", content);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
        }

        async Task Grpc() => await grpc.ModelInferAsync(grpcRequest);

        Console.WriteLine($"| {model} | bare `session.Run` | {bareStats.P50:0} | {bareStats.P99:0} | | |");
        foreach (var (name, call) in new (string, Func<Task>)[] { ("HTTP JSON", Json), ("gRPC raw", Grpc) })
        {
            var before = await AllocatedAsync(http);
            var (sumBefore, countBefore) = await ServerLatencyAsync(http, model);
            var stats = await LatencyStats.MeasureAsync(500, latencyCount, call);
            var after = await AllocatedAsync(http);
            var (sumAfter, countAfter) = await ServerLatencyAsync(http, model);
            var serverMean = (sumAfter - sumBefore) / (countAfter - countBefore) * 1e6;
            Console.WriteLine($"| {model} | {name} | {stats.P50:0} | {stats.P99:0} | {stats.P50 - bareStats.P50:+0;-0} | {serverMean:0} |");
            allocation.Add($"| {model} | {name} | {(after - before) / (double)(latencyCount + 500):0} | {input.Data.Length} |");
        }
    }

    Console.WriteLine();
    Console.WriteLine("## The agent's request pipeline alone, in process (no web server)");
    Console.WriteLine();
    await PipelineCost.PrintAsync(repository, latencyCount * 3);

    Console.WriteLine();
    Console.WriteLine("## Managed bytes the agent allocates per request (whole process: Kestrel, gRPC, agent, prediction log)");
    Console.WriteLine();
    Console.WriteLine("| model | path | bytes per request | input tensor bytes |");
    Console.WriteLine("| --- | --- | ---: | ---: |");
    allocation.ForEach(Console.WriteLine);

    Console.WriteLine();
    Console.WriteLine($"## Throughput, 8 concurrent gRPC clients, {throughputSeconds} s each (requests/s)");
    Console.WriteLine();
    Console.WriteLine("| model | client | unbatched | micro-batched | ratio | mean batch |");
    Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
    foreach (var (model, input) in new[]
    {
        ("mlp", NamedTensor.Floats("features", [1, 512], NamedTensor.RandomFloats(512, 3))),
        ("embedding", NamedTensor.Floats("input_1", [1, 76, 32, 1], NamedTensor.RandomFloats(2432, 3))),
    })
    {
        // .NET's gRPC client, then (if installed) nghttp2's h2load: the .NET client's own CPU a call is a large share of
        // these 2 cores, which caps what batching in the agent can show.
        var (runsBefore, rowsBefore) = await BatchesAsync(http, model + "_batched");
        var plain = await ThroughputAsync(grpc, RawInferRequest.For(model, input), throughputSeconds);
        var batched = await ThroughputAsync(grpc, RawInferRequest.For(model + "_batched", input), throughputSeconds);
        var (runs, rows) = await BatchesAsync(http, model + "_batched");
        Console.WriteLine($"| {model} | Grpc.Net.Client | {plain:0} | {batched:0} | {batched / plain:0.00}× | {(rows - rowsBefore) / (runs - runsBefore):0.0} |");
        if (NativeClient.Available())
        {
            (runsBefore, rowsBefore) = (runs, rows);
            var nativePlain = await NativeClient.ThroughputAsync(served, model, RawInferRequest.For(model, input).ToByteArray(), 8, throughputSeconds, work);
            var nativeBatched = await NativeClient.ThroughputAsync(served, model + "_batched", RawInferRequest.For(model + "_batched", input).ToByteArray(), 8, throughputSeconds, work);
            (runs, rows) = await BatchesAsync(http, model + "_batched");
            Console.WriteLine($"| {model} | h2load | {nativePlain:0} | {nativeBatched:0} | {nativeBatched / nativePlain:0.00}× | {(rows - rowsBefore) / (runs - runsBefore):0.0} |");
        }
    }

    Console.WriteLine();
    Console.WriteLine("## Native AOT agent (linux-x64)");
    Console.WriteLine();
    var size = new FileInfo(binary).Length;
    var ort = new FileInfo(Path.Combine(Path.GetDirectoryName(binary)!, "libonnxruntime.so")).Length;
    var loadedRss = ResidentBytes(agent.Id);
    var empty = Path.Combine(work, "empty");
    Directory.CreateDirectory(empty);
    var starts = new List<double>();
    long idleRss = 0;
    for (var i = 0; i < 5; i++)
    {
        var port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        using var idle = AgentProcess.Start(binary, ["--models", empty, "--data", Path.Combine(work, $"idle{i}"), "--urls", $"http://127.0.0.1:{port}"], port);
        await idle.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        starts.Add(clock.Elapsed.TotalMilliseconds);
        idleRss = await SettledResidentBytesAsync(idle.Id);
        await idle.TerminateAsync(TimeSpan.FromSeconds(10));
    }

    starts.Sort();
    var sampleRss = await SampleModelsRssAsync(binary, work);
    Console.WriteLine("| measure | value |");
    Console.WriteLine("| --- | ---: |");
    Console.WriteLine($"| binary size (edge-agent) | {size / 1048576.0:0.0} MiB |");
    Console.WriteLine($"| with libonnxruntime.so | {(size + ort) / 1048576.0:0.0} MiB |");
    Console.WriteLine($"| start to ready, no models (median of 5, process start to first 200 on /v2/health/ready) | {starts[2]:0} ms |");
    Console.WriteLine($"| RSS idle, no models (ONNX Runtime not loaded yet) | {idleRss / 1048576.0:0.0} MiB |");
    Console.WriteLine($"| RSS with the 9 sample models loaded | {sampleRss / 1048576.0:0.0} MiB |");
    Console.WriteLine($"| RSS after this benchmark (4 models + 2 batched copies) | {loadedRss / 1048576.0:0.0} MiB |");
    await agent.TerminateAsync(TimeSpan.FromSeconds(20));
}
finally
{
    Directory.Delete(work, recursive: true);
}

static async Task<double> ThroughputAsync(GRPCInferenceService.GRPCInferenceServiceClient grpc, ModelInferRequest request, int seconds)
{
    for (var i = 0; i < 50; i++)
    {
        await grpc.ModelInferAsync(request);
    }

    long done = 0;
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
    {
        while (clock.Elapsed < until)
        {
            await grpc.ModelInferAsync(request);
            Interlocked.Increment(ref done);
        }
    })));
    return done / clock.Elapsed.TotalSeconds;
}

static async Task<(double Runs, double Rows)> BatchesAsync(HttpClient http, string model)
{
    var metrics = await http.GetStringAsync("/metrics");
    return (AgentMetrics.Value(metrics, $"edge_model_batch_size_count{{model=\"{model}\",version=\"1\"}}"),
        AgentMetrics.Value(metrics, $"edge_model_batch_size_sum{{model=\"{model}\",version=\"1\"}}"));
}

static async Task<(double Sum, double Count)> ServerLatencyAsync(HttpClient http, string model) =>
    AgentMetrics.RequestDuration(await http.GetStringAsync("/metrics"), model);

static async Task<double> AllocatedAsync(HttpClient http) => AgentMetrics.AllocatedBytes(await http.GetStringAsync("/metrics"));

static long ResidentBytes(int pid)
{
    var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

// RSS once start-up has settled: two readings 100 ms apart within 1 %, or whatever it is after 5 s.
static async Task<long> SettledResidentBytesAsync(int pid)
{
    var deadline = Stopwatch.StartNew();
    var previous = ResidentBytes(pid);
    while (deadline.Elapsed < TimeSpan.FromSeconds(5))
    {
        await Task.Delay(100);
        var current = ResidentBytes(pid);
        if (Math.Abs(current - previous) <= previous / 100)
        {
            return current;
        }

        previous = current;
    }

    return previous;
}

static async Task<long> SampleModelsRssAsync(string binary, string work)
{
    var port = FreePort.Next();
    using var agent = AgentProcess.Start(binary, ["--models", TestPaths.SampleModels, "--data", Path.Combine(work, "samples"), "--urls", $"http://127.0.0.1:{port}"], port);
    await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
    var rss = await SettledResidentBytesAsync(agent.Id);
    await agent.TerminateAsync(TimeSpan.FromSeconds(10));
    return rss;
}
