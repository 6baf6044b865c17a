using System.Diagnostics;
using EdgeInference.Testing;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What <c>Agent:PredictionLog:Durability=BeforeReply</c> costs on hey_jarvis over HTTP JSON: p50 and p99 with one client
/// and with eight concurrent ones, against the default (AfterReply), the AOT agent in its own process, rounds interleaved.
/// </summary>
internal static class DurabilityCost
{
    public static async Task PrintAsync(string binary, string work, int rounds, int requests)
    {
        var repository = Path.Combine(work, "models");
        Directory.CreateDirectory(Path.Combine(repository, "hey_jarvis", "1"));
        File.Copy(Path.Combine(TestPaths.SampleModels, "hey_jarvis", "1", "model.onnx"), Path.Combine(repository, "hey_jarvis", "1", "model.onnx"));
        var body = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, seed: 1))]));
        var results = new Dictionary<(string Mode, int Clients), List<double[]>>();
        var commits = new Dictionary<(string Mode, int Clients), long>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var mode in new[] { "AfterReply", "BeforeReply" })
            {
                var data = Path.Combine(work, $"data-{mode}-{round}");
                using var agent = await BenchmarkAgent.StartAsync(binary, repository, data, new Dictionary<string, string> { ["EDGE_AGENT_Agent__PredictionLog__Durability"] = mode });
                foreach (var clients in new[] { 1, 8 })
                {
                    var before = await CommitsAsync(agent.Http);
                    var micros = await MeasureAsync(agent.Http, body, clients, requests);
                    commits[(mode, clients)] = commits.GetValueOrDefault((mode, clients)) + (await CommitsAsync(agent.Http) - before);
                    (results.TryGetValue((mode, clients), out var list) ? list : results[(mode, clients)] = []).Add(micros);
                }
            }
        }

        Console.WriteLine($"Prediction log durability on hey_jarvis, HTTP JSON, AOT agent; {rounds} interleaved rounds of {requests} requests per client count");
        Console.WriteLine("| clients | durability | p50 µs | p99 µs | requests/s | commits per 1 000 requests |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var clients in new[] { 1, 8 })
        {
            foreach (var mode in new[] { "AfterReply", "BeforeReply" })
            {
                var all = results[(mode, clients)].SelectMany(r => r).ToArray();
                var stats = LatencyStats.Of(all);
                var seconds = results[(mode, clients)].Sum(r => r.Sum()) / 1e6 / clients;
                Console.WriteLine($"| {clients} | {mode} | {stats.P50:0} | {stats.P99:0} | {all.Length / seconds:0} | {commits[(mode, clients)] * 1000.0 / all.Length:0.0} |");
            }
        }
    }

    private static async Task<double[]> MeasureAsync(HttpClient http, byte[] body, int clients, int requests)
    {
        async Task<double[]> ClientAsync(int count)
        {
            var micros = new double[count];
            for (var i = 0; i < count + 50; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync(new Uri("/v2/models/hey_jarvis/infer", UriKind.Relative), content);
                response.EnsureSuccessStatusCode();
                if (i >= 50)
                {
                    micros[i - 50] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                }
            }

            return micros;
        }

        var all = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => ClientAsync(requests / clients))));
        return all.SelectMany(m => m).ToArray();
    }

    private static async Task<long> CommitsAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var line = metrics.Split('\n').First(l => l.StartsWith("edge_prediction_log_commits_total ", StringComparison.Ordinal));
        return long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
