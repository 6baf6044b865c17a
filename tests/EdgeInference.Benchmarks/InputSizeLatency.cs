using System.Net.Http.Headers;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Grpc.Net.Client;

namespace EdgeInference.Benchmarks;

/// <summary>
/// Where gRPC with raw contents starts to beat HTTP JSON: p50 of both over an FP32 identity model of growing size
/// (the reply is as large as the request, so JSON pays for parsing and for writing), through the AOT agent.
/// </summary>
internal static class InputSizeLatency
{
    public static async Task PrintAsync(string binary, string work, int rounds, int count)
    {
        int[] sizes = [16, 256, 1536, 6144, 24576];
        var repository = Path.Combine(work, "models");
        foreach (var size in sizes)
        {
            OnnxModelBuilder.Write(Path.Combine(repository, $"identity_{size}", "1"), OnnxModelBuilder.Identity(TensorDataType.Fp32, [1, size]));
        }

        using var served = await BenchmarkAgent.StartAsync(binary, repository, Path.Combine(work, "data"));
        var (agent, http, grpc) = (served.Process, served.Http, served.Grpc);

        Console.WriteLine($"| FP32 identity, floats in and out | HTTP JSON p50 µs | gRPC raw p50 µs | gRPC raw / HTTP JSON |");
        Console.WriteLine("| ---: | ---: | ---: | ---: |");
        foreach (var size in sizes)
        {
            var model = $"identity_{size}";
            var input = NamedTensor.Floats("x", [1, size], NamedTensor.RandomFloats(size, size));
            var json = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([input]));
            var grpcRequest = RawInferRequest.For(model, input);
            var httpRounds = new double[rounds];
            var grpcRounds = new double[rounds];
            for (var round = 0; round < rounds; round++)
            {
                httpRounds[round] = (await LatencyStats.MeasureAsync(200, count, async () =>
                {
                    using var content = new ByteArrayContent(json);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync($"/v2/models/{model}/infer", content);
                    response.EnsureSuccessStatusCode();
                    await response.Content.ReadAsByteArrayAsync();
                })).P50;
                grpcRounds[round] = (await LatencyStats.MeasureAsync(200, count, async () => await grpc.ModelInferAsync(grpcRequest))).P50;
            }

            var httpP50 = httpRounds.Order().ElementAt(rounds / 2);
            var grpcP50 = grpcRounds.Order().ElementAt(rounds / 2);
            Console.WriteLine($"| {size} | {httpP50:0} | {grpcP50:0} | {grpcP50 / httpP50:0.00} |");
        }

        await agent.TerminateAsync(TimeSpan.FromSeconds(20));
    }
}
