using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using EdgeInference.Testing;
using Google.Protobuf;

namespace EdgeInference.Benchmarks;

/// <summary>
/// The benchmark's requests from a native client: nghttp2's <c>h2load</c> (Debian's <c>nghttp2-client</c>), HTTP/1.1
/// for JSON and HTTP/2 for gRPC. Latency: hey_jarvis, one connection, one request at a time. It separates what the agent costs from
/// what the .NET clients cost: .NET's HTTP/2 client spends more CPU a call than its HTTP/1.1 client, which a C, C++,
/// Go or Rust app on the device does not pay. p50 and p99 come from h2load's per-request log; the agent's
/// <c>/metrics</c> must show every request served and none failed (h2load counts a gRPC error as HTTP 200).
/// </summary>
internal static class NativeClient
{
    private const string Tool = "h2load";

    public static bool Available() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, Tool)));

    public static async Task<string> LatencyTableAsync(BenchmarkAgent served, BareOrt bare, NamedTensor input, string work, int rounds, int count)
    {
        const int Warmup = 300;
        var json = Path.Combine(work, "hey_jarvis.json");
        await File.WriteAllTextAsync(json, V2Client.JsonRequest([input]));
        var binary = Path.Combine(work, "hey_jarvis.bin");
        var (binaryBody, binaryHeaderLength) = V2Client.BinaryRequest([input]);
        await File.WriteAllBytesAsync(binary, binaryBody);
        var grpc = Path.Combine(work, "hey_jarvis.grpc");
        await File.WriteAllBytesAsync(grpc, GrpcFrame(RawInferRequest.For("hey_jarvis", input).ToByteArray()));
        var empty = Path.Combine(work, "empty.grpc");
        await File.WriteAllBytesAsync(empty, GrpcFrame([]));
        var http = served.Http.BaseAddress!;
        var grpcAddress = $"http://{served.Channel.Target}/inference.GRPCInferenceService";
        var paths = new (string Name, string[] Arguments, string Status, int Served)[]
        {
            ("HTTP floor (POST to a 405)", ["--h1", "-d", json, $"{http}v2/health/live"], "4xx", 0),
            ("HTTP JSON", ["--h1", "-d", json, "-H", "content-type: application/json", $"{http}v2/models/hey_jarvis/infer"], "2xx", 1),
            ("HTTP binary", ["--h1", "-d", binary, "-H", "content-type: application/octet-stream", "-H", $"inference-header-content-length: {binaryHeaderLength}", $"{http}v2/models/hey_jarvis/infer"], "2xx", 1),
            ("gRPC floor (ServerLive)", ["-d", empty, "-H", "content-type: application/grpc", "-H", "te: trailers", $"{grpcAddress}/ServerLive"], "2xx", 0),
            ("gRPC raw", ["-d", grpc, "-H", "content-type: application/grpc", "-H", "te: trailers", $"{grpcAddress}/ModelInfer"], "2xx", 1),
        };

        var bareP50 = new double[rounds];
        var p50 = new double[paths.Length, rounds];
        var p99 = new double[paths.Length, rounds];
        for (var round = 0; round < rounds; round++)
        {
            bareP50[round] = (await LatencyStats.MeasureAsync(Warmup, count, () => { bare.Run([input]); return Task.CompletedTask; })).P50;
            for (var p = 0; p < paths.Length; p++)
            {
                var before = await served.Http.GetStringAsync("/metrics");
                var micros = await RunAsync(paths[p].Arguments, paths[p].Status, Warmup, count, work);
                var after = await served.Http.GetStringAsync("/metrics");
                var servedCount = Counter(after, "edge_model_requests_total") - Counter(before, "edge_model_requests_total");
                var failed = Counter(after, "edge_model_errors_total") - Counter(before, "edge_model_errors_total");
                if (failed != 0 || servedCount != paths[p].Served * (Warmup + count))
                {
                    throw new InvalidOperationException($"{paths[p].Name}: the agent served {servedCount} hey_jarvis requests and failed {failed}; expected {paths[p].Served * (Warmup + count)} and none.");
                }

                var stats = LatencyStats.Of(micros);
                p50[p, round] = stats.P50;
                p99[p, round] = stats.P99;
            }
        }

        var bareMedian = bareP50.Order().ElementAt(rounds / 2);
        var table = new System.Text.StringBuilder();
        table.AppendLine($"| hey_jarvis, native client (h2load), µs, {count} requests a round | {string.Join(" | ", Enumerable.Range(1, rounds).Select(r => $"round {r} p50"))} | median p50 | median p99 | p50 over bare |");
        table.AppendLine($"| --- |{string.Concat(Enumerable.Repeat(" ---: |", rounds + 3))}");
        table.AppendLine($"| bare session.Run | {string.Join(" | ", bareP50.Select(v => $"{v:0}"))} | {bareMedian:0} | | |");
        for (var p = 0; p < paths.Length; p++)
        {
            var median = RequestLatency.Median(p50, p, rounds);
            table.AppendLine($"| {paths[p].Name} | {string.Join(" | ", Enumerable.Range(0, rounds).Select(r => $"{p50[p, r]:0}"))} | {median:0} | {RequestLatency.Median(p99, p, rounds):0} | {median - bareMedian:+0;-0} |");
        }

        return table.ToString();
    }

    /// <summary>
    /// Requests a second from <paramref name="streams"/> concurrent gRPC ModelInfer calls on one HTTP/2 connection (as the
    /// .NET throughput clients share one channel) for <paramref name="seconds"/>, after a second's warm-up; every call
    /// must succeed (HTTP status and the model's error counter).
    /// </summary>
    public static async Task<double> ThroughputAsync(BenchmarkAgent served, string model, byte[] request, int streams, int seconds, string work)
    {
        var body = Path.Combine(work, model + ".grpc");
        await File.WriteAllBytesAsync(body, GrpcFrame(request));
        var errors = $"edge_model_errors_total{{model=\"{model}\",version=\"1\"}}";
        var before = AgentMetrics.Value(await served.Http.GetStringAsync("/metrics"), errors);
        var output = await RunAsync(["-c", "1", "-m", streams.ToString(CultureInfo.InvariantCulture), "-D", seconds.ToString(CultureInfo.InvariantCulture), "--warm-up-time=1",
            "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers", $"http://{served.Channel.Target}/inference.GRPCInferenceService/ModelInfer"]);
        var failed = AgentMetrics.Value(await served.Http.GetStringAsync("/metrics"), errors) - before;
        var rate = System.Text.RegularExpressions.Regex.Match(output, @"finished in [0-9.]+m?s, ([0-9.]+) req/s");
        if (failed != 0 || !output.Contains(" 0 failed, 0 errored", StringComparison.Ordinal) || !rate.Success)
        {
            throw new InvalidOperationException($"{Tool} on {model}: {failed} requests failed in the agent; {output}");
        }

        return double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Runs h2load for <paramref name="warmup"/> + <paramref name="count"/> sequential requests, which must all get an
    /// HTTP status of the class <paramref name="status"/> ("2xx"); the latencies of the last <paramref name="count"/>.
    /// </summary>
    private static async Task<double[]> RunAsync(string[] arguments, string status, int warmup, int count, string work)
    {
        var log = Path.Combine(work, "h2load.log");
        File.Delete(log);
        var output = await RunAsync(["-n", (warmup + count).ToString(CultureInfo.InvariantCulture), "-c", "1", "-m", "1", $"--log-file={log}", .. arguments]);
        if (!output.Contains($" {warmup + count} {status}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Tool} {string.Join(' ', arguments)}: not every request got {status}: {output}");
        }

        // Each line: start time (µs since the epoch), HTTP status, µs to the end of the response; in completion order.
        var lines = await File.ReadAllLinesAsync(log);
        return lines.Where(l => l.Length > 0).Skip(warmup)
            .Select(l => double.Parse(l.Split('\t')[2], CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>Runs h2load to its end (two minutes at most); its report.</summary>
    private static async Task<string> RunAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Tool} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Tool} {string.Join(' ', start.ArgumentList)} failed: {await output}{await errors}");
        }

        return await output;
    }

    private static byte[] GrpcFrame(byte[] message)
    {
        var frame = new byte[message.Length + 5];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    private static double Counter(string metrics, string name) => AgentMetrics.Value(metrics, $"{name}{{model=\"hey_jarvis\",version=\"1\"}}");
}
