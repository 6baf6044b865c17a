using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Testing;

/// <summary>
/// The fleet service in this process on free loopback ports (HTTP and its embedded broker), with an operator client;
/// or, with <see cref="StartTlsAsync"/>, on HTTPS and MQTT over TLS only, with a client pinning the fleet's certificate.
/// </summary>
public sealed class FleetHost : IAsyncDisposable
{
    public const string OperatorToken = "test-operator-token";

    private readonly bool _tls;
    private readonly string[] _extraArgs;
    private bool _disposed;

    private FleetHost(WebApplication app, int httpPort, int mqttPort, string data, bool tls, string[] extraArgs)
    {
        _extraArgs = extraArgs;
        App = app;
        HttpPort = httpPort;
        MqttPort = mqttPort;
        Data = data;
        _tls = tls;
        Http = new HttpClient(TrustingHandler()) { BaseAddress = new Uri($"{Url}/api/v1/"), Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorToken);
    }

    public WebApplication App { get; }

    public int HttpPort { get; }

    public int MqttPort { get; }

    public string Url => $"{(_tls ? "https" : "http")}://127.0.0.1:{HttpPort}";

    /// <summary>The certificate the fleet's TLS endpoints present (its own, generated in its data folder).</summary>
    public FleetCertificate Certificate => App.Services.GetRequiredService<FleetCertificate>();

    /// <summary>The broker devices use: the embedded one, or the external one given with <c>--mqtt-url</c>.</summary>
    public string MqttUrl => App.Services.GetRequiredService<EdgeInference.Fleet.Broker.FleetMqttClient>().BrokerUrl;

    public string Data { get; }

    /// <summary>An operator's client for <c>/api/v1/</c>.</summary>
    public HttpClient Http { get; }

    public IFleetStore Store => App.Services.GetRequiredService<IFleetStore>();

    public static Task<FleetHost> StartAsync(string? data = null, params string[] extraArgs) =>
        StartAsync(data ?? TestPaths.NewTempDirectory("fleet-data"), FreePort.Next(), FreePort.Next(), tls: false, extraArgs);

    /// <summary>A fleet on a chosen HTTP port: a replica whose URL is known before it starts (others advertise it with <c>--public-url</c>).</summary>
    public static Task<FleetHost> StartOnPortAsync(string data, int httpPort, params string[] extraArgs) =>
        StartAsync(data, httpPort, FreePort.Next(), tls: false, extraArgs);

    /// <summary>Whether this replica leads (runs the rollout planner).</summary>
    public bool IsLeader => App.Services.GetRequiredService<EdgeInference.Fleet.Rollouts.FleetLeader>().IsLeader;

    /// <summary>A fleet on HTTPS and MQTT over TLS only (no plain listener), as an operator should run it.</summary>
    public static Task<FleetHost> StartTlsAsync(string? data = null, params string[] extraArgs) =>
        StartAsync(data ?? TestPaths.NewTempDirectory("fleet-data"), FreePort.Next(), FreePort.Next(), tls: true, extraArgs);

    /// <summary>
    /// A TLS fleet on a chosen HTTPS port: one whose <c>--public-url</c> names the port devices reach it on, e.g. an
    /// emulated device's <c>https://10.0.2.2:PORT</c> (QEMU's user network maps that to this machine's loopback).
    /// </summary>
    public static Task<FleetHost> StartTlsOnPortAsync(string data, int httpPort, params string[] extraArgs) =>
        StartAsync(data, httpPort, FreePort.Next(), tls: true, extraArgs);

    /// <summary>Stops this fleet service and starts a new one on the same data, ports and arguments, as a restart would.</summary>
    public async Task<FleetHost> RestartAsync()
    {
        await DisposeAsync();
        return await StartAsync(Data, HttpPort, MqttPort, _tls, _extraArgs);
    }

    /// <summary>A fleet whose broker connection is not waited for: one whose broker refuses it.</summary>
    public static Task<FleetHost> StartWithoutBrokerAsync(params string[] extraArgs) =>
        StartAsync(TestPaths.NewTempDirectory("fleet-data"), FreePort.Next(), FreePort.Next(), tls: false, extraArgs, waitForBroker: false);

    private static async Task<FleetHost> StartAsync(string data, int httpPort, int mqttPort, bool tls, string[] extraArgs, bool waitForBroker = true)
    {
        var port = mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] args =
        [
            "--urls", $"{(tls ? "https" : "http")}://127.0.0.1:{httpPort}", "--mqtt-bind", "127.0.0.1",
            .. tls ? ["--mqtt-port", "0", "--mqtt-tls-port", port] : new[] { "--mqtt-port", port, "--mqtt-tls-port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "--data", data, "--operator-token", OperatorToken, "--Fleet:RolloutInterval=00:00:00.200", "--Fleet:CommandTimeout=00:00:05",
            .. extraArgs,
        ];
        var builder = WebApplication.CreateSlimBuilder(EdgeInference.Fleet.Hosting.FleetHostingExtensions.HostArguments(args));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddFleet(args);
        var app = builder.Build();
        app.MapFleet();
        await app.StartAsync();
        var host = new FleetHost(app, httpPort, mqttPort, data, tls, extraArgs);
        if (waitForBroker)
        {
            await app.Services.GetRequiredService<EdgeInference.Fleet.Broker.FleetMqttClient>().WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        }

        return host;
    }

    /// <summary>A handler that trusts this fleet's certificate (and, over plain HTTP, nothing is checked).</summary>
    public HttpMessageHandler TrustingHandler()
    {
        var handler = new SocketsHttpHandler();
        if (_tls)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == Certificate.Certificate.GetCertHashString();
        }

        return handler;
    }

    /// <summary>Enrolls <paramref name="deviceId"/> and returns its secret.</summary>
    public async Task<string> EnrollAsync(string deviceId, params string[] tags)
    {
        var enrollment = await SendAsync(HttpMethod.Post, $"devices/{deviceId}/enroll", null);
        if (tags.Length > 0)
        {
            var body = new JsonObject();
            foreach (var tag in tags)
            {
                body[tag.Split('=')[0]] = tag.Split('=')[1];
            }

            await SendAsync(HttpMethod.Patch, $"devices/{deviceId}/tags", body);
        }

        return enrollment!["secret"]!.GetValue<string>();
    }

    /// <summary>The agent arguments that connect a device to this fleet with its credentials and trusted keys.</summary>
    public string[] AgentArguments(string deviceId, string secret, string trustedKeys) =>
    [
        "--mqtt", MqttUrl, "--device-id", deviceId, "--mqtt-username", deviceId, "--mqtt-password", secret, "--trusted-keys", trustedKeys,
        "--telemetry-interval", "00:00:01", "--Mqtt:ReconnectMaxDelay=00:00:01", "--Updates:ProbationPeriod=00:00:01",
        .. _tls ? [$"--Mqtt:CaPem={Certificate.TrustAnchorPem}"] : Array.Empty<string>(),
    ];

    /// <summary>Uploads the files and seals the package with <paramref name="signed"/>.</summary>
    public async Task PushAsync(PackageManifest manifest, SignedManifest signed, IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(files);
        foreach (var (role, path) in files)
        {
            using var content = new ByteArrayContent(await File.ReadAllBytesAsync(path));
            await SendAsync(HttpMethod.Put, $"packages/{manifest.Name}/{manifest.Version}/files/{PackageRoles.FileNames[role]}", content);
        }

        using var seal = new StringContent(JsonSerializer.Serialize(signed, PackageJsonContext.Default.SignedManifest), Encoding.UTF8, "application/json");
        await SendAsync(HttpMethod.Post, $"packages/{manifest.Name}/{manifest.Version}", seal);
    }

    public Task<JsonNode?> StartRolloutAsync(JsonObject request) => SendAsync(HttpMethod.Post, "rollouts", request);

    public Task<JsonNode?> RolloutAsync(string id) => SendAsync(HttpMethod.Get, $"rollouts/{id}", null);

    /// <summary>Polls the rollout until its state is one of <paramref name="states"/>; fails with its last view after <paramref name="timeout"/>.</summary>
    public async Task<JsonNode> WaitForRolloutAsync(string id, TimeSpan timeout, params string[] states)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonNode? view = null;
        while (DateTime.UtcNow < deadline)
        {
            view = await RolloutAsync(id);
            if (states.Contains(view!["rollout"]!["state"]!.GetValue<string>()))
            {
                return view;
            }

            await Task.Delay(200);
        }

        var devices = view?["devices"]?.AsArray().GroupBy(d => d?["state"]?.GetValue<string>() ?? "?").Select(g => $"{g.Count()} {g.Key}");
        throw new TimeoutException($"rollout {id} did not reach {string.Join("/", states)} in {timeout}: it is {view?["rollout"]?["state"]} at stage {view?["rollout"]?["stage"]}, "
            + $"devices {string.Join(", ", devices ?? [])}; last events: {string.Join(" | ", view?["events"]?.AsArray().TakeLast(3).Select(e => $"{e?["kind"]}: {e?["message"]}") ?? [])}");
    }

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = body switch
            {
                null => null,
                HttpContent content => content,
                JsonNode node => new StringContent(node.ToJsonString(), Encoding.UTF8, "application/json"),
                _ => throw new ArgumentException("body must be HttpContent or JsonNode", nameof(body)),
            },
        };
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method} {path}: {(int)response.StatusCode} {text}", null, response.StatusCode);
        }

        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
