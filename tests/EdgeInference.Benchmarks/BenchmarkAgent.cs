using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Testing;
using Grpc.Net.Client;

namespace EdgeInference.Benchmarks;

/// <summary>The published AOT agent started on a model repository with HTTP and gRPC on free loopback ports, and clients of both.</summary>
internal sealed class BenchmarkAgent : IDisposable
{
    private BenchmarkAgent(AgentProcess process, int httpPort, int grpcPort)
    {
        Process = process;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Grpc = new GRPCInferenceService.GRPCInferenceServiceClient(Channel);
    }

    public AgentProcess Process { get; }

    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public GRPCInferenceService.GRPCInferenceServiceClient Grpc { get; }

    public static async Task<BenchmarkAgent> StartAsync(string binary, string repository, string data, IDictionary<string, string>? environment = null)
    {
        var httpPort = FreePort.Next();
        var grpcPort = FreePort.Next();
        var process = AgentProcess.Start(binary,
            ["--models", repository, "--data", data, "--urls", $"http://127.0.0.1:{httpPort}", "--grpc", $"127.0.0.1:{grpcPort}"], httpPort, environment);
        try
        {
            await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return new BenchmarkAgent(process, httpPort, grpcPort);
    }

    public void Dispose()
    {
        Channel.Dispose();
        Http.Dispose();
        Process.Dispose();
    }
}
