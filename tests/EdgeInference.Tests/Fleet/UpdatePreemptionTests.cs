using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeInference.Tests.Fleet;

/// <summary>A slow or hostile package server cannot hold a device's updates: downloads have a deadline and later commands preempt them.</summary>
public sealed class UpdatePreemptionTests : IAsyncDisposable
{
    private const string Device = "preempt-1";
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);
    private static readonly byte[] V3 = OnnxModelBuilder.Mlp(8, [16], seed: 3);
    private readonly string _root = TestPaths.NewTempDirectory("preempt");
    private readonly SigningKey _key = SigningKey.Generate();

    public async ValueTask DisposeAsync()
    {
        _key.Dispose();
        await Task.Yield();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ADownloadFromATricklingServer_FailsAtItsDeadline_AndTheNextDeployInstalls()
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var servers = await PackageServers.StartAsync();
        await using var agent = await StartAgentAsync(broker, recorder, "--Updates:DownloadDeadline=00:00:02");

        var v2 = Build("2.0.0", V2);
        var started = DateTime.UtcNow;
        await SendDeployAsync(broker, "deploy-v2", servers.Slow(v2), v2);
        var failed = await FinalReplyAsync(recorder, "deploy-v2", TimeSpan.FromSeconds(30));
        Assert.Equal(("failed", "download_failed"), (Text(failed, "state"), Text(failed, "reason")));
        Assert.Contains("did not finish within its deadline of 00:00:02", Text(failed, "message"), StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the deadline was not kept");

        var v3 = Build("3.0.0", V3);
        await SendDeployAsync(broker, "deploy-v3", servers.Fast(v3), v3);
        var installed = await FinalReplyAsync(recorder, "deploy-v3", TimeSpan.FromSeconds(30));
        Assert.Equal(("succeeded", "3.0.0"), (Text(installed, "state"), Text(installed, "serving_version")));
    }

    [Theory]
    [InlineData("deploy")]
    [InlineData("rollback")]
    public async Task ADownloadStuckOnASlowServer_IsPreemptedByALaterCommandForTheSameModel(string later)
    {
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        await using var servers = await PackageServers.StartAsync();
        await using var agent = await StartAgentAsync(broker, recorder);

        var v2 = Build("2.0.0", V2);
        await SendDeployAsync(broker, "deploy-v2", servers.Slow(v2), v2);
        await recorder.WaitForAsync(r => r.Payloads(Device, "replies/deploy-v2").Any(p => Text(p, "step") == "download"), TimeSpan.FromSeconds(20), "the download to start");

        var v3 = Build("3.0.0", V3);
        var preempting = DateTime.UtcNow;
        if (later == "deploy")
        {
            await SendDeployAsync(broker, "deploy-v3", servers.Fast(v3), v3);
        }
        else
        {
            await SendAsync(broker, new CommandMessage { Id = "rollback-1", Command = CommandNames.Rollback, Model = "scorer", Reason = "v2 is stuck" });
        }

        var preempted = await FinalReplyAsync(recorder, "deploy-v2", TimeSpan.FromSeconds(20));
        Assert.Equal(("failed", "preempted"), (Text(preempted, "state"), Text(preempted, "reason")));
        Assert.Contains($"given up for {later}", Text(preempted, "message"), StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - preempting < TimeSpan.FromSeconds(15), "the preemption waited for the slow server");
        if (later == "deploy")
        {
            var installed = await FinalReplyAsync(recorder, "deploy-v3", TimeSpan.FromSeconds(30));
            Assert.Equal(("succeeded", "3.0.0"), (Text(installed, "state"), Text(installed, "serving_version")));
        }
        else
        {
            Assert.Equal("1.0.0", Text(await FinalReplyAsync(recorder, "rollback-1", TimeSpan.FromSeconds(20)), "serving_version"));
        }
    }

    private Package Build(string version, byte[] model) => Package.Build(Path.Combine(_root, "packages"), "scorer", version, model, goldenFrom: model, _key);

    private async Task<AgentHost> StartAgentAsync(InProcessBroker broker, MqttRecorder recorder, params string[] extra)
    {
        var models = Path.Combine(_root, "models");
        Build("1.0.0", V1).InstallAsFirstVersion(models);
        var trusted = Directory.CreateDirectory(Path.Combine(_root, "trusted")).FullName;
        await File.WriteAllTextAsync(Path.Combine(trusted, "ops.pub.pem"), _key.PublicKeyPem());
        var agent = await AgentHost.StartAsync(models, null,
        [
            "--mqtt", broker.Url, "--device-id", Device, "--trusted-keys", trusted, "--Updates:ProbationPeriod=00:00:01",
            "--Mqtt:ReconnectMaxDelay=00:00:01", .. extra,
        ]);

        // The agent subscribes to its commands before it says it is online: commands sent from now on reach it.
        await recorder.WaitForAsync(r => r.Payloads(Device, "status").Any(), TimeSpan.FromSeconds(20), "the agent online");
        return agent;
    }

    private static Task SendDeployAsync(InProcessBroker broker, string id, string url, Package package) =>
        SendAsync(broker, new CommandMessage { Id = id, Command = CommandNames.Deploy, Model = "scorer", Deploy = new DeployCommand { PackageUrl = url, Package = package.Signed } });

    private static async Task SendAsync(InProcessBroker broker, CommandMessage command)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).Build());
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"edge/{Device}/commands/{command.Command}")
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(command, ContractJsonContext.Default.CommandMessage)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await client.DisconnectAsync();
    }

    private static async Task<JsonNode> FinalReplyAsync(MqttRecorder recorder, string id, TimeSpan timeout)
    {
        await recorder.WaitForAsync(r => r.Payloads(Device, $"replies/{id}").Any(p => p["final"]?.GetValue<bool>() == true), timeout, $"the final reply to {id}");
        return recorder.Payloads(Device, $"replies/{id}").Last(p => p["final"]?.GetValue<bool>() == true);
    }

    private static string? Text(JsonNode node, string name) => node[name]?.GetValue<string>();

    /// <summary>One HTTP server with a fast and a trickling (a byte every 200 ms) path for each package's files.</summary>
    private sealed class PackageServers : IAsyncDisposable
    {
        private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
        private WebApplication _app = null!;
        private int _port;

        public static async Task<PackageServers> StartAsync()
        {
            var servers = new PackageServers { _port = FreePort.Next() };
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{servers._port}");
            servers._app = builder.Build();
            servers._app.Run(servers.ServeAsync);
            await servers._app.StartAsync();
            return servers;
        }

        public string Fast(Package package) => Add("fast", package);

        public string Slow(Package package) => Add("slow", package);

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();

        private string Add(string speed, Package package)
        {
            lock (_files)
            {
                foreach (var (role, path) in package.Files)
                {
                    _files[$"/{speed}/{package.Manifest.Version}/files/{PackageRoles.FileNames[role]}"] = File.ReadAllBytes(path);
                }
            }

            return $"http://127.0.0.1:{_port}/{speed}/{package.Manifest.Version}";
        }

        private async Task ServeAsync(HttpContext context)
        {
            byte[]? bytes;
            lock (_files)
            {
                bytes = _files.GetValueOrDefault(context.Request.Path.Value!);
            }

            if (bytes is null)
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentLength = bytes.Length;
            if (context.Request.Path.StartsWithSegments("/fast", StringComparison.Ordinal))
            {
                await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
                return;
            }

            foreach (var b in bytes)
            {
                await context.Response.Body.WriteAsync(new[] { b }, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(200, context.RequestAborted);
            }
        }
    }
}
