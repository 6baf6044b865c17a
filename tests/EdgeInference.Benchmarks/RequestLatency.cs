using System.Net.Http.Headers;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Testing;
using Grpc.Net.Client;

namespace EdgeInference.Benchmarks;

/// <summary>
/// hey_jarvis per-request latency only, in several rounds that interleave bare ORT, the HTTP floor, HTTP JSON
/// and gRPC raw, so a change to the request path can be judged against this VM's drift between runs. Also the CPU
/// time the agent and this client spend a request (means). Under <c>taskset -c 0</c> both share one core: no hand-off
/// wakes a halted virtual CPU, and the figures repeat within a few microseconds.
/// </summary>
internal static class RequestLatency
{
    public static async Task PrintAsync(string binary, string work, int rounds, int count, IDictionary<string, string> environment, string? only = null, string? modelConfig = null)
    {
        var repository = Path.Combine(work, "models");
        Directory.CreateDirectory(Path.Combine(repository, "hey_jarvis", "1"));
        File.Copy(Path.Combine(TestPaths.SampleModels, "hey_jarvis", "1", "model.onnx"), Path.Combine(repository, "hey_jarvis", "1", "model.onnx"));
        if (modelConfig is not null)
        {
            File.WriteAllText(Path.Combine(repository, "hey_jarvis", "config.json"), modelConfig);
        }

        using var served = await BenchmarkAgent.StartAsync(binary, repository, Path.Combine(work, "data"), environment);
        var (agent, http, grpc) = (served.Process, served.Http, served.Grpc);
        using var bare = new BareOrt(Path.Combine(repository, "hey_jarvis", "1", "model.onnx"));
        using var bareOne = new BareOrt(Path.Combine(repository, "hey_jarvis", "1", "model.onnx"), o => o.IntraOpNumThreads = 1);
        var input = NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, 1));
        var json = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([input]));
        var (binaryBody, binaryHeaderLength) = V2Client.BinaryRequest([input]);
        var grpcRequest = RawInferRequest.For("hey_jarvis", input);

        var paths = new (string Name, Func<Task> Call)[]
        {
            ("bare session.Run", () => { bare.Run([input]); return Task.CompletedTask; }),
            ("bare, one thread (how the agent runs it)", () => { bareOne.Run([input]); return Task.CompletedTask; }),
            ("HTTP floor (POST to a 405)", async () =>
            {
                using var content = new ByteArrayContent(json);
                using var response = await http.PostAsync("/v2/health/live", content);
                await response.Content.ReadAsByteArrayAsync();
            }),
            ("HTTP JSON", async () =>
            {
                using var content = new ByteArrayContent(json);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync("/v2/models/hey_jarvis/infer", content);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
            }),
            ("HTTP binary", async () =>
            {
                using var content = new ByteArrayContent(binaryBody);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.Add("Inference-Header-Content-Length", binaryHeaderLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
                using var response = await http.PostAsync("/v2/models/hey_jarvis/infer", content);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
            }),
            ("gRPC floor (ServerLive)", async () => await grpc.ServerLiveAsync(new ServerLiveRequest())),
            ("gRPC raw", async () => await grpc.ModelInferAsync(grpcRequest)),
        };
        if (only is not null)
        {
            paths = paths.Where(p => p.Name == only || p.Name.StartsWith("bare", StringComparison.Ordinal)).ToArray();
        }

        var p50 = new double[paths.Length, rounds];
        var agentCpu = new double[paths.Length, rounds];
        var clientCpu = new double[paths.Length, rounds];
        var clientBytes = new double[paths.Length, rounds];
        var agentBytes = new double[paths.Length, rounds];
        var agentTime = new double[paths.Length, rounds];
        using var agentProcess = System.Diagnostics.Process.GetProcessById(agent.Id);
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        (TimeSpan Agent, TimeSpan Client) CpuTimes()
        {
            agentProcess.Refresh();
            self.Refresh();
            return (agentProcess.TotalProcessorTime, self.TotalProcessorTime);
        }

        const int Warmup = 300;
        for (var round = 0; round < rounds; round++)
        {
            for (var p = 0; p < paths.Length; p++)
            {
                var metricsBefore = await http.GetStringAsync("/metrics");
                var before = CpuTimes();
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                p50[p, round] = (await LatencyStats.MeasureAsync(Warmup, count, paths[p].Call)).P50;
                var after = CpuTimes();
                agentCpu[p, round] = (after.Agent - before.Agent).TotalMicroseconds / (Warmup + count);
                clientCpu[p, round] = (after.Client - before.Client).TotalMicroseconds / (Warmup + count);
                clientBytes[p, round] = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)(Warmup + count);
                var metricsAfter = await http.GetStringAsync("/metrics");
                agentBytes[p, round] = (AgentMetrics.AllocatedBytes(metricsAfter) - AgentMetrics.AllocatedBytes(metricsBefore)) / (Warmup + count);
                var (sumBefore, countBefore) = AgentMetrics.RequestDuration(metricsBefore, "hey_jarvis");
                var (sumAfter, countAfter) = AgentMetrics.RequestDuration(metricsAfter, "hey_jarvis");
                agentTime[p, round] = countAfter > countBefore ? (sumAfter - sumBefore) / (countAfter - countBefore) * 1e6 : double.NaN;
            }
        }

        Console.WriteLine($"| hey_jarvis, p50 µs, {count} requests a round | {string.Join(" | ", Enumerable.Range(1, rounds).Select(r => $"round {r}"))} | median | median over bare |");
        Console.WriteLine($"| --- |{string.Concat(Enumerable.Repeat(" ---: |", rounds + 2))}");
        var bareMedian = Median(p50, 0, rounds);
        for (var p = 0; p < paths.Length; p++)
        {
            var median = Median(p50, p, rounds);
            var over = p == 0 ? "" : $"{median - bareMedian:+0;-0}";
            Console.WriteLine($"| {paths[p].Name} | {string.Join(" | ", Enumerable.Range(0, rounds).Select(r => $"{p50[p, r]:0}"))} | {median:0} | {over} |");
        }

        Console.WriteLine();
        Console.WriteLine("| CPU µs a request (mean; median of rounds) | agent | client | agent bytes allocated | client bytes allocated | agent's own request time (µs, mean) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        for (var p = 0; p < paths.Length; p++)
        {
            Console.WriteLine($"| {paths[p].Name} | {Median(agentCpu, p, rounds):0} | {Median(clientCpu, p, rounds):0} | {Median(agentBytes, p, rounds):0} | {Median(clientBytes, p, rounds):0} | {Median(agentTime, p, rounds):0} |");
        }

        if (only is null)
        {
            Console.WriteLine();
            Console.WriteLine(NativeClient.Available()
                ? await NativeClient.LatencyTableAsync(served, bare, input, work, rounds, count)
                : "(h2load not found: apt-get install nghttp2-client for the same requests from a native client)");
        }

        await agent.TerminateAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>The median of a row of per-round figures.</summary>
    internal static double Median(double[,] values, int row, int count)
    {
        var sorted = Enumerable.Range(0, count).Select(c => values[row, c]).Order().ToArray();
        return sorted[count / 2];
    }
}
