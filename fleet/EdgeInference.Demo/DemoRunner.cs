using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using EdgeInference.Fleet.Cli;
using EdgeInference.Optimization.Optimize;
using EdgeInference.Packaging;

namespace EdgeInference.Demo;

/// <summary>
/// The main job, end to end with real processes: the fleet service (embedded broker and store), three enrolled
/// agents with their own data and tags serving openWakeWord's models (signed 1.0.0 packages), live audio
/// through the wake-word pipeline on each, and a staged rollout (canary, then the rest) of a signed
/// hey_jarvis 2.0.0, int8 by <c>models optimize</c> on the live inputs and benchmarked on the devices, with golden
/// vectors, shadow mode and health gates.
/// </summary>
internal sealed class DemoRunner
{
    public static readonly string[] Models = ["melspectrogram", "embedding", "hey_jarvis"];
    private const int Agents = 3;
    private readonly DemoOptions _options;
    private readonly List<ChildProcess> _processes = [];

    /// <summary>What hey_jarvis 2.0.0 is: int8 and how it measured, or the float network and why.</summary>
    private string? _v2;

    public DemoRunner(DemoOptions options)
    {
        _options = options;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var root = _options.Root;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        Directory.CreateDirectory(root);
        var configuration = AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var fleetDll = Path.Combine(_options.RepositoryRoot, "fleet", "EdgeInference.Fleet", "bin", configuration, "net10.0", "edge-fleet.dll");
        var agentDll = Path.Combine(_options.RepositoryRoot, "src", "EdgeInference.Agent", "bin", configuration, "net10.0", "edge-agent.dll");
        using var pipelines = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var traffic = new List<Task>();
        try
        {
            // 1. The fleet service, with its embedded MQTT broker and store.
            int httpPort = PortOr(_options.HttpPort), mqttPort = PortOr(_options.MqttPort), mqttTlsPort = PortOr(0);
            var fleetUrl = $"http://127.0.0.1:{httpPort}";
            Say($"starting the fleet service on {fleetUrl} (MQTT 127.0.0.1:{mqttPort}, MQTT over TLS 127.0.0.1:{mqttTlsPort})");
            _processes.Add(ChildProcess.Start("fleet", fleetDll,
                [
                    "--urls", fleetUrl, "--mqtt-port", $"{mqttPort}", "--mqtt-tls-port", $"{mqttTlsPort}", "--mqtt-bind", "127.0.0.1",
                    "--data", Path.Combine(root, "fleet"), "--Fleet:CommandTimeout=00:00:20",
                ],
                Path.Combine(root, "fleet.log")));
            await WaitAsync(async () => await HealthyAsync(fleetUrl, cancellationToken).ConfigureAwait(false), TimeSpan.FromSeconds(60), "the fleet service to start", cancellationToken).ConfigureAwait(false);
            var token = (await File.ReadAllTextAsync(Path.Combine(root, "fleet", "operator.token"), cancellationToken).ConfigureAwait(false)).Trim();
            using var fleet = new FleetClient(fleetUrl, token);

            // 2. The operator's signing key, trusted by every device; 1.0.0 of each model, signed and pushed.
            using var key = SigningKey.Generate();
            var trusted = Path.Combine(root, "trusted-keys");
            Directory.CreateDirectory(trusted);
            await File.WriteAllTextAsync(Path.Combine(trusted, "demo-operator.pub.pem"), key.PublicKeyPem(), cancellationToken).ConfigureAwait(false);
            var v1 = new Dictionary<string, (PackageManifest Manifest, SignedManifest Signed, Dictionary<string, string> Files)>(StringComparer.Ordinal);
            foreach (var model in Models)
            {
                v1[model] = await PushAsync(fleet, key, model, "1.0.0", new() { [PackageRoles.Model] = Path.Combine(_options.Models, model, "1", "model.onnx") }, cancellationToken).ConfigureAwait(false);
            }

            Say($"pushed {string.Join(", ", Models)} 1.0.0, signed by key {key.KeyId}");

            // 3. Three devices: enrolled with tags, each its own model repository (1.0.0 installed) and data folder.
            var agentUrls = new List<string>();
            for (var i = 0; i < Agents; i++)
            {
                var id = $"demo-device-{i + 1}";
                var enrollment = await fleet.EnrollAsync(id, cancellationToken).ConfigureAwait(false);
                await fleet.TagAsync(id, new() { ["site"] = "lab", ["ring"] = i == 0 ? "canary" : "main" }, cancellationToken).ConfigureAwait(false);
                var models = Path.Combine(root, "agents", id, "models");
                foreach (var model in Models)
                {
                    Install(v1[model], Path.Combine(models, model));
                }

                var agentPort = PortOr(0);
                agentUrls.Add($"http://127.0.0.1:{agentPort}");
                // The device joins over TLS, pinning the fleet's certificate from its enrollment.
                var settings = Path.Combine(root, "agents", id, "agent.json");
                await File.WriteAllTextAsync(settings, new JsonObject { ["Mqtt"] = new JsonObject { ["CaPem"] = enrollment.CaPem ?? throw new InvalidOperationException("the fleet's enrollment has no certificate to pin") } }.ToJsonString(), cancellationToken).ConfigureAwait(false);
                _processes.Add(ChildProcess.Start(id, agentDll,
                [
                    "--models", models, "--data", Path.Combine(root, "agents", id, "data"), "--urls", agentUrls[^1], "--config", settings,
                    "--mqtt", enrollment.MqttUrl, "--device-id", id, "--mqtt-username", id, "--mqtt-password", enrollment.Secret,
                    "--trusted-keys", trusted, "--telemetry-interval", "00:00:02", "--drift-interval", "00:00:10", "--Updates:ProbationPeriod=00:00:05",
                ], Path.Combine(root, $"{id}.log")));
            }

            Say($"started {Agents} agents; waiting for them to come online");
            await WaitAsync(async () => (await DevicesAsync(fleet, cancellationToken).ConfigureAwait(false)).Count(d => d.ServingVersion("hey_jarvis") == "1.0.0" && d.Online) == Agents,
                TimeSpan.FromSeconds(90), "every agent online serving 1.0.0", cancellationToken).ConfigureAwait(false);

            // 4. Live audio through melspectrogram → embedding → hey_jarvis on every agent.
            var feeds = agentUrls.Select((url, i) => new WakeWordPipeline(url, seed: i + 1)).ToArray();
            traffic.AddRange(feeds.Select(f => f.RunAsync(pipelines.Token)));
            Say("synthetic audio is flowing through the wake-word pipeline on every agent");

            // 5. hey_jarvis 2.0.0: int8, made by `models optimize` from 1.0.0 with the inputs the live pipeline sends it
            //    (half to calibrate, half to judge), with golden vectors from the float model and its own config.
            var v2Folder = Path.Combine(root, "packages", "hey_jarvis-2.0.0");
            Directory.CreateDirectory(v2Folder);
            var (v2Model, golden, how) = await OptimizedJarvisAsync(feeds, Path.Combine(root, "packages", "hey_jarvis-inputs"), cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(v2Folder, "golden.json"), golden, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(v2Folder, "config.json"), """{"cache": {"enabled": true}, "warmup": {"iterations": 3}}""", cancellationToken).ConfigureAwait(false);
            await PushAsync(fleet, key, "hey_jarvis", "2.0.0", new()
            {
                [PackageRoles.Model] = v2Model,
                [PackageRoles.Golden] = Path.Combine(v2Folder, "golden.json"),
                [PackageRoles.Config] = Path.Combine(v2Folder, "config.json"),
            }, cancellationToken).ConfigureAwait(false);
            _v2 = how;
            Say($"pushed hey_jarvis 2.0.0: {how}; golden vectors, its own config, signed");

            // 6. Every lab device times 2.0.0 beside what it serves, before anything switches.
            Say($"benchmark on the devices: {await BenchmarkAsync(fleet, cancellationToken).ConfigureAwait(false)}");

            // 7. The staged rollout: the canary, then the rest, each stage gated.
            var started = await fleet.StartRolloutAsync(new RolloutRequest
            {
                Model = "hey_jarvis", Version = "2.0.0", Target = "site=lab", Stages = "1,100%", Soak = "8s",
                // No p95 gate here: hey_jarvis runs in well under a millisecond, and on a small shared machine running
                // three agents the ratio of two sub-millisecond p95s is noise (the tests gate p95 on a model slow enough to measure).
                Gates = ["install_rate>=1", "golden_rate>=1", "error_rate<=0.01", "agreement>=0.9"],
                OnFailure = "rollback", ShadowRequests = 5, ShadowTimeout = "30s",
            }, cancellationToken).ConfigureAwait(false);
            var rolloutId = started.Rollout.Id;
            Say($"rollout {rolloutId}: hey_jarvis 2.0.0 to site=lab in stages 1, 100% (gates: install, golden, errors, shadow agreement)");
            Say($"dashboard: {fleetUrl}/dashboard/#token={token}");

            var deadline = DateTime.UtcNow + _options.Timeout;
            string? last = null;
            var lastSaid = DateTime.UtcNow;
            while (true)
            {
                var rollout = (await fleet.GetRolloutAsync(rolloutId, cancellationToken).ConfigureAwait(false)).Rollout;
                var devices = await DevicesAsync(fleet, cancellationToken).ConfigureAwait(false);
                var state = rollout.State.WireName();
                var line = $"rollout {state}, stage {rollout.Stage + 1} of {rollout.Stages.Count}; " +
                    string.Join(", ", devices.Select(d => $"{d.Id} on hey_jarvis {d.ServingVersion("hey_jarvis") ?? "?"}"));
                if (line != last || DateTime.UtcNow - lastSaid > TimeSpan.FromSeconds(10))
                {
                    Say($"{line}; {string.Join(", ", feeds.Select(f => $"{f.Requests} requests"))}");
                    (last, lastSaid) = (line, DateTime.UtcNow);
                }

                if (rollout.State is RolloutState.RolledBack or RolloutState.Aborted or RolloutState.Paused)
                {
                    Say($"the rollout stopped: {rollout.Reason}");
                    return await FinishAsync(fleet, devices, rolloutId, state, success: false, cancellationToken).ConfigureAwait(false);
                }

                if (rollout.State == RolloutState.Completed && devices.All(d => d.ServingVersion("hey_jarvis") == "2.0.0" && TelemetryRequests(d, "hey_jarvis", "2.0.0") > 0))
                {
                    Say("done: every agent serves hey_jarvis 2.0.0 and reports its telemetry");
                    var code = await FinishAsync(fleet, devices, rolloutId, state, success: true, cancellationToken).ConfigureAwait(false);
                    if (_options.ExitWhenDone)
                    {
                        return code;
                    }

                    Say($"still running, with live traffic: watch it on {fleetUrl}/dashboard/#token={token} — Ctrl+C stops everything");
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }

                if (DateTime.UtcNow > deadline)
                {
                    Say($"gave up after {_options.Timeout.TotalSeconds:0} s");
                    return await FinishAsync(fleet, devices, rolloutId, state, success: false, cancellationToken).ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Say("stopping");
            return 0;
        }
        finally
        {
            await pipelines.CancelAsync().ConfigureAwait(false);
            foreach (var task in traffic)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            // Agents first (they say offline through the broker), then the fleet.
            for (var i = _processes.Count - 1; i >= 0; i--)
            {
                await _processes[i].DisposeAsync().ConfigureAwait(false);
            }

            Say($"stopped every process; logs and data are in {root}");
        }
    }

    private static void Say(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

    private static int PortOr(int preferred)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, preferred);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException) when (preferred != 0)
        {
            return PortOr(0);
        }
    }

    private static async Task<bool> HealthyAsync(string url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return (await http.GetAsync(new Uri($"{url}/api/v1/health"), cancellationToken).ConfigureAwait(false)).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition().ConfigureAwait(false))
        {
            if (_processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"waited for {what}: {exited.Name} exited (see {_options.Root}/{exited.Name}.log)");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"waited for {what}: not within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(PackageManifest, SignedManifest, Dictionary<string, string>)> PushAsync(
        FleetClient fleet, SigningKey key, string name, string version, Dictionary<string, string> files, CancellationToken cancellationToken)
    {
        var manifest = ManifestBuilder.Build(name, version, files, DateTimeOffset.UtcNow);
        var signed = key.Sign(manifest);
        foreach (var (role, path) in files)
        {
            using var content = new ByteArrayContent(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
            await fleet.UploadAsync(name, version, PackageRoles.FileNames[role], content, cancellationToken).ConfigureAwait(false);
        }

        await fleet.SealAsync(name, version, signed, cancellationToken).ConfigureAwait(false);
        return (manifest, signed, files);
    }

    /// <summary>Installs a package as version 1 of a device's repository, as a device image would ship it.</summary>
    private void Install((PackageManifest Manifest, SignedManifest Signed, Dictionary<string, string> Files) package, string modelFolder)
    {
        var version = Path.Combine(modelFolder, "1");
        Directory.CreateDirectory(version);
        foreach (var (role, path) in package.Files)
        {
            File.Copy(path, Path.Combine(version, PackageRoles.FileNames[role]));
        }

        File.WriteAllBytes(Path.Combine(version, "manifest.json"), Convert.FromBase64String(package.Signed.Manifest));
        var config = Path.Combine(_options.Models, package.Manifest.Name, "config.json");
        if (File.Exists(config))
        {
            File.Copy(config, Path.Combine(modelFolder, "config.json"));
        }
    }

    /// <summary>hey_jarvis 2.0.0 benchmarked on every lab device (<c>models benchmark</c>), each device's p50 and p99, or what kept one from answering.</summary>
    private static async Task<string> BenchmarkAsync(FleetClient fleet, CancellationToken cancellationToken)
    {
        var results = await fleet.BenchmarkAsync("hey_jarvis", "2.0.0", new BenchmarkRequest { Target = "site=lab", Iterations = 200 }, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);

        return string.Join("; ", results.Select(b => b.Result is { } r
            ? string.Create(CultureInfo.InvariantCulture, $"{b.DeviceId} p50 {r.P50Ms:0.###} ms, p99 {r.P99Ms:0.###} ms on {r.Provider} (+{r.RssIncreaseBytes / 1048576.0:0.0} MiB)")
            : $"{b.DeviceId} {b.State.WireName()}{(b.Message is { } m ? $": {m}" : "")}"));
    }

    /// <summary>
    /// hey_jarvis 1.0.0 quantized by <see cref="ModelOptimizer"/> on the windows the live pipelines sent it; the float
    /// model with golden vectors recorded from 1.0.0 when too few windows came or no variant passed (and why).
    /// </summary>
    private async Task<(string Model, byte[] Golden, string How)> OptimizedJarvisAsync(WakeWordPipeline[] feeds, string folder, CancellationToken cancellationToken)
    {
        var float32 = Path.Combine(_options.Models, "hey_jarvis", "1", "model.onnx");
        var waited = DateTime.UtcNow;
        while (feeds.Sum(f => f.Windows.Count) < 80 && DateTime.UtcNow - waited < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        var windows = feeds.SelectMany(f => f.Windows).ToList();
        string why;
        if (windows.Count >= 20)
        {
            var calibration = Directory.CreateDirectory(Path.Combine(folder, "calibration")).FullName;
            var heldOut = Directory.CreateDirectory(Path.Combine(folder, "heldout")).FullName;
            for (var i = 0; i < windows.Count; i++)
            {
                var values = windows[i];
                await File.WriteAllBytesAsync(Path.Combine(i % 2 == 0 ? calibration : heldOut, $"{i:00000}.npy"),
                    EdgeInference.Runtime.Tensors.NpyFile.Write(EdgeInference.Runtime.Tensors.TensorDataType.Fp32, [1, 16, 96], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())), cancellationToken).ConfigureAwait(false);
            }

            var package = await ModelOptimizer.OptimizeAsync(float32, calibration, heldOut, new OptimizationOptions
            {
                Gates = new EdgeInference.Optimization.Verification.VerificationGates { MaxP99AbsDiff = 0.05, MinAgreement = 0.99 },
            }, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(folder, "report.json"), JsonSerializer.SerializeToUtf8Bytes(package.Report, EdgeInference.Optimization.Inspection.OptimizationJsonContext.Default.OptimizationReport), cancellationToken).ConfigureAwait(false);
            if (package is { Model: { } model, Golden: { } golden, Report.Chosen: { } chosen })
            {
                var path = Path.Combine(folder, "model.onnx");
                await File.WriteAllBytesAsync(path, model, cancellationToken).ConfigureAwait(false);
                var kept = package.Report.Variants.Single(v => v.Name == chosen);
                return (path, JsonSerializer.SerializeToUtf8Bytes(golden, PackageJsonContext.Default.GoldenSet), string.Create(CultureInfo.InvariantCulture,
                    $"int8 by models optimize ({chosen}: {kept.SizeRatio:0.00}× the size, {kept.Speedup:0.0}× as fast, p99 |Δ| {kept.Verification.Outputs[0].P99AbsDiff:0.0000} on {package.Report.HeldOutInputs} live windows)"));
            }

            why = $"no int8 variant passed, e.g. {package.Report.Variants[0].Name}: {package.Report.Variants[0].Failure} (all in {folder}/report.json)";
        }
        else
        {
            why = $"only {windows.Count} live windows to calibrate on";
        }

        return (float32, await GoldenAsync(feeds[0], cancellationToken).ConfigureAwait(false), $"the float network ({why})");
    }

    private static async Task<byte[]> GoldenAsync(WakeWordPipeline agent, CancellationToken cancellationToken)
    {
        var random = new Random(42);
        var set = new GoldenSet { AbsoluteTolerance = 1e-5, RelativeTolerance = 1e-4 };
        for (var i = 0; i < 3; i++)
        {
            var data = Enumerable.Range(0, 16 * 96).Select(_ => (float)(random.NextDouble() * 2)).ToArray();
            var (output, shape) = await agent.InferAsync("hey_jarvis", "x.1", [1, 16, 96], data, cancellationToken).ConfigureAwait(false);
            set.Cases.Add(new GoldenCase
            {
                Name = $"recorded from 1.0.0, case {i + 1}",
                Inputs = [new GoldenTensor { Name = "x.1", Shape = [1, 16, 96], Data = data.Select(v => (double)v).ToList() }],
                Expected = [new GoldenTensor { Name = "53", Shape = [.. shape], Data = output.Select(v => (double)v).ToList() }],
            });
        }

        return JsonSerializer.SerializeToUtf8Bytes(set, PackageJsonContext.Default.GoldenSet);
    }

    private static async Task<List<DeviceView>> DevicesAsync(FleetClient fleet, CancellationToken cancellationToken) =>
        await fleet.ListDevicesAsync(cancellationToken).ConfigureAwait(false);

    private static long TelemetryRequests(DeviceView device, string model, string version) =>
        device.Stats.GetValueOrDefault($"{model}@{version}")?.Requests ?? 0;

    /// <summary>Writes <c>summary.json</c> (what the demo's test asserts) and says how it ended.</summary>
    private async Task<int> FinishAsync(FleetClient fleet, List<DeviceView> devices, string rolloutId, string state, bool success, CancellationToken cancellationToken)
    {
        var view = await fleet.GetRolloutAsync(rolloutId, cancellationToken).ConfigureAwait(false);
        var summary = new JsonObject
        {
            ["succeeded"] = success,
            ["rollout"] = rolloutId,
            ["rollout_state"] = state,
            ["hey_jarvis_2.0.0"] = _v2,
            ["events"] = new JsonArray(view.Events.Select(e => (JsonNode?)JsonValue.Create(e.Kind)).ToArray()),
            ["devices"] = new JsonArray(devices.Select(d => (JsonNode?)new JsonObject
            {
                ["id"] = d.Id,
                ["hey_jarvis"] = d.ServingVersion("hey_jarvis"),
                ["requests_on_2.0.0"] = TelemetryRequests(d, "hey_jarvis", "2.0.0"),
                ["models"] = new JsonArray(Models.Select(m => (JsonNode?)JsonValue.Create($"{m} {d.ServingVersion(m)}")).ToArray()),
            }).ToArray()),
        };
        await File.WriteAllTextAsync(Path.Combine(_options.Root, "summary.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
        return success ? 0 : 1;
    }
}
