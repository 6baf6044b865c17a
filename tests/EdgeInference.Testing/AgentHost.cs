using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Agent.Hosting;
using EdgeInference.Runtime.Models;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Testing;

/// <summary>The agent running in this process on free loopback ports (HTTP and gRPC), with clients for both.</summary>
public sealed class AgentHost : IAsyncDisposable
{
    private readonly bool _ownsData;

    private AgentHost(WebApplication app, int httpPort, int grpcPort, string data, bool ownsData)
    {
        App = app;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        Data = data;
        _ownsData = ownsData;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Grpc = new GRPCInferenceService.GRPCInferenceServiceClient(Channel);
    }

    public WebApplication App { get; }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public string Data { get; }

    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public GRPCInferenceService.GRPCInferenceServiceClient Grpc { get; }

    public ModelRepository Models => App.Services.GetRequiredService<ModelRepository>();

    public static Task<AgentHost> StartAsync(string models, string? data = null, params string[] extraArgs) => StartAsync(models, data, null, extraArgs);

    /// <summary>As <see cref="StartAsync(string, string?, string[])"/>, letting the test replace services (a fake clock) after the agent's own.</summary>
    public static async Task<AgentHost> StartAsync(string models, string? data, Action<IServiceCollection>? services, params string[] extraArgs)
    {
        var ownsData = data is null;
        data ??= TestPaths.NewTempDirectory("agent-data");
        var httpPort = FreePort.Next();
        var grpcPort = FreePort.Next();
        string[] args =
        [
            "--models", models, "--data", data,
            "--urls", $"http://127.0.0.1:{httpPort}", "--grpc", $"127.0.0.1:{grpcPort}",
            "--poll-interval", "00:00:00.200",
            .. extraArgs,
        ];
        var builder = WebApplication.CreateSlimBuilder(AgentHostingExtensions.HostArguments(args));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddEdgeAgent(args);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapEdgeAgent();
        await app.StartAsync();
        return new AgentHost(app, httpPort, grpcPort, data, ownsData);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing after <paramref name="timeout"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) => WaitUntilAsync(condition, timeout, () => what);

    /// <summary>As above, with <paramref name="what"/> worked out only on timeout (to describe the state it was left in).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(what);
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what()}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsData)
        {
            Directory.Delete(Data, recursive: true);
        }
    }
}
