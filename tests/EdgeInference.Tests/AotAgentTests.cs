using System.Net.Sockets;
using System.Text;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Storage;
using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>The published Native AOT binaries themselves: started, asked, and stopped as systemd would.</summary>
public sealed class AotAgentTests : IDisposable
{
    private readonly string _models = TestPaths.CopySampleModels("hey_jarvis", "embedding");
    private readonly string _data = TestPaths.NewTempDirectory("aot-data");

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task X64Binary_ServesBareOrtAnswers_AndOnSigtermDrainsAndFlushesTheLog()
    {
        var port = FreePort.Next();
        var grpcPort = FreePort.Next();
        using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"),
            ["--models", _models, "--data", _data, "--urls", $"http://127.0.0.1:{port}", "--grpc", $"127.0.0.1:{grpcPort}"], port);
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));

        using var reference = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
        var inputs = SampleInputs.For("hey_jarvis", reference);
        SampleModelOutputTests.AssertSame(reference.Run(inputs), await V2Client.InferJsonAsync(agent.Http, "hey_jarvis", inputs), "AOT JSON");
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var grpc = new EdgeInference.Agent.Grpc.V2.GRPCInferenceService.GRPCInferenceServiceClient(channel);
        SampleModelOutputTests.AssertSame(reference.Run(inputs), await V2Client.InferGrpcAsync(grpc, "hey_jarvis", inputs), "AOT gRPC");

        // The small model was timed on the shared thread pool and inline, and the metadata says which won.
        var metadata = System.Text.Json.Nodes.JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/hey_jarvis"))!;
        Assert.Contains(metadata["threading"]!.GetValue<string>(), new[] { "inline", "shared pool" });
        Assert.Contains(metadata["notes"]!.AsArray(), n => n!.GetValue<string>().Contains("µs inline and", StringComparison.Ordinal));

        Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(15)));

        // LiteDB worked inside the AOT binary: both predictions are in the log it left behind.
        using var log = new PredictionLogStore(new PredictionLogOptions(), () => DurableLiteDatabase.Open(Path.Combine(_data, "predictions.db")));
        var records = log.Read(0, 100);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("hey_jarvis", r.Model));
        Assert.Equal(["v2-http", "v2-grpc"], records.Select(r => r.Protocol));
        Assert.Equal(BitConverter.ToSingle(reference.Run(inputs)[0].Data), (float)records[0].Outputs[0].Values[0]);
    }

    [Fact]
    public async Task X64Binary_ReadsEveryChipThroughItsBinding_IntoAModelAndTheMetrics()
    {
        var models = GeneratedModels.Repository(("vibration", 1, EdgeInference.Testing.Onnx.OnnxModelBuilder.Mlp(96, [16], seed: 21), null));
        try
        {
            var port = FreePort.Next();
            string[] sensors =
            [
                "--Sensors:Bus=emulated", "--Sensors:PollSeconds=0.2",
                "--Sensors:Devices:0:Name=imu", "--Sensors:Devices:0:Chip=mpu6050", "--Sensors:Devices:0:Samples=32", "--Sensors:Devices:0:RateHz=400",
                "--Sensors:Devices:1:Name=arm", "--Sensors:Devices:1:Chip=adxl345", "--Sensors:Devices:1:Bus=0",
                "--Sensors:Devices:2:Name=grid", "--Sensors:Devices:2:Chip=amg88xx", "--Sensors:Devices:2:Address=105",
                "--Sensors:Devices:3:Name=probe", "--Sensors:Devices:3:Chip=ads1115", "--Sensors:Devices:3:Channels:0=AIN2",
                "--Sensors:Devices:4:Name=room", "--Sensors:Devices:4:Chip=bme280",
                "--Capture:Intervals:0:IntervalMilliseconds=200", "--Capture:Intervals:0:Model=vibration", "--Capture:Intervals:0:Source=sensor:imu",
                "--Agent:PredictionLog:InputSampleRate=1",
            ];
            using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), ["--models", models, "--data", _data, "--urls", $"http://127.0.0.1:{port}", .. sensors], port);
            await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));

            var metrics = "";
            await AgentHost.WaitUntilAsync(() =>
            {
                metrics = agent.Http.GetStringAsync("/metrics").GetAwaiter().GetResult();
                var requests = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("edge_model_requests_total{model=\"vibration\"", StringComparison.Ordinal));
                return requests is not null && long.Parse(requests[(requests.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) >= 2
                    && metrics.Contains("reading=\"pressure_hpa\"", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(30), () => $"two interval captures and the room's readings in /metrics:\n{metrics}");

            // UnitsNet's conversions and each binding's arithmetic ran in the trimmed native binary.
            Assert.Equal(5, metrics.Split('\n').Count(l => l.StartsWith("edge_sensor_up{", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal)));
            Assert.Equal(25.08, Reading(metrics, "room", "temperature_c"), 0.005);
            Assert.Equal(1006.5327, Reading(metrics, "room", "pressure_hpa"), 0.001);
            Assert.Equal(55.0, Reading(metrics, "room", "humidity_percent"), 0.01);
            Assert.Equal(9.807, Reading(metrics, "imu", "accel_z_m_s2"), 0.001);
            Assert.Equal(0.98, Reading(metrics, "arm", "accel_z_g"), 0.01);
            Assert.InRange(Reading(metrics, "grid", "min_c"), -7, -3);
            Assert.InRange(Reading(metrics, "probe", "ain2_v"), 2.4, 2.6);
            Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(15)));

            using var log = new PredictionLogStore(new PredictionLogOptions(), () => DurableLiteDatabase.Open(Path.Combine(_data, "predictions.db")));
            var record = log.Read(0, 1)[0];
            Assert.Equal("interval", record.Protocol);
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(record.Inputs![0].Data).ToArray();
            Assert.Equal(96, values.Length);
            using var bare = new BareOrt(Path.Combine(models, "vibration", "1", "model.onnx"));
            Assert.Equal(bare.Run([NamedTensor.Floats("features", [1, 96], values)])[0].AsFloats()[0], (float)record.Outputs[0].Values[0]);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task X64WithoutSensors_LeavesTheDriversOut_ServesAsBareOrt_AndRefusesSensorSettingsNamingTheBuild()
    {
        // -p:Sensors=false: the switch is a constant to the AOT compiler, so the bindings and UnitsNet are not compiled in.
        var slim = TestPaths.AotAgent("linux-x64-nosensors");
        var full = new FileInfo(TestPaths.AotAgent("linux-x64")).Length;
        Assert.True(new FileInfo(slim).Length < full - (4L << 20), $"{new FileInfo(slim).Length} bytes against {full} with sensors");

        var port = FreePort.Next();
        using (var agent = AgentProcess.Start(slim, ["--models", _models, "--data", _data, "--urls", $"http://127.0.0.1:{port}"], port))
        {
            await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
            using var reference = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
            var inputs = SampleInputs.For("hey_jarvis", reference);
            SampleModelOutputTests.AssertSame(reference.Run(inputs), await V2Client.InferJsonAsync(agent.Http, "hey_jarvis", inputs), "the agent without sensors");
            Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(15)));
        }

        port = FreePort.Next();
        using var refused = AgentProcess.Start(slim,
            ["--models", _models, "--data", _data, "--urls", $"http://127.0.0.1:{port}", "--Sensors:Bus=emulated", "--Sensors:Devices:0:Name=imu", "--Sensors:Devices:0:Chip=mpu6050"], port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!refused.HasExited)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Sensors:Devices: this agent was published without sensor drivers (-p:Sensors=false)", refused.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task X64CudaFlavor_WhereCudaCannotLoad_ServesOnCpu_AndItsMetadataAndStatusNameTheMissingLibrary()
    {
        var binary = TestPaths.AotAgent("linux-x64-cuda");
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(binary)!, "libonnxruntime_providers_cuda.so")), "the CUDA provider is in the build");
        var gpu = File.Exists("/dev/nvidia0");
        var port = FreePort.Next();
        await using var broker = await InProcessBroker.StartAsync();
        await using var recorder = await MqttRecorder.StartAsync("127.0.0.1", broker.Port);
        using var agent = AgentProcess.Start(binary, ["--models", _models, "--data", _data, "--urls", $"http://127.0.0.1:{port}", "--mqtt", broker.Url, "--device-id", "cuda-flavor"], port);
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));

        var metadata = System.Text.Json.Nodes.JsonNode.Parse(await agent.Http.GetStringAsync("/v2/models/hey_jarvis"))!;
        var notes = metadata["execution_provider_notes"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.DoesNotContain(notes, n => n.StartsWith("CUDA: CUDAExecutionProvider is not in this ONNX Runtime build", StringComparison.Ordinal));
        if (gpu)
        {
            Assert.Equal("CUDA", metadata["execution_provider"]!.GetValue<string>());
        }
        else
        {
            // Honest fallback: the provider is in the build, its library cannot load, the loader's reason is kept, and CPU serves.
            Assert.Equal("CPU", metadata["execution_provider"]!.GetValue<string>());
            var cuda = Assert.Single(notes, n => n.StartsWith("CUDA: appending it failed", StringComparison.Ordinal));
            Assert.Matches(@"\(lib[\w.+-]+\.so[.\d]*: cannot open shared object file: No such file or directory\)", cuda);
            await recorder.WaitForAsync(r => r.Payloads("cuda-flavor", "status").Any(s => s["models"] is { } models && models.AsArray().Count == 2), TimeSpan.FromSeconds(20), "the status with both models");
            var status = recorder.Payloads("cuda-flavor", "status").Last(s => s["models"] is not null)["models"]!.AsArray().First(m => m!["model"]!.GetValue<string>() == "hey_jarvis")!;
            Assert.Equal("CPU", status["execution_provider"]!.GetValue<string>());
            Assert.Contains(cuda, status["execution_provider_notes"]!.AsArray().Select(n => n!.GetValue<string>()));
        }

        await SampleModelOutputTests.AssertHeyJarvisCloseAsync(agent.Http, 1e-4f, "the CUDA build's CPU kernels, or the GPU's");

        Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task X64Binary_StartedInTheRootDirectoryAsSystemdDoes_WatchesNoDirectories()
    {
        // The host's appsettings.json reloading watches the working directory recursively: from "/" that was every
        // directory of the machine (44 700 inotify watches here) and seconds before the agent was ready.
        var port = FreePort.Next();
        using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), ["--models", _models, "--data", _data, "--urls", $"http://127.0.0.1:{port}"], port, workingDirectory: "/");
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, agent.InotifyInstances());
        Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task X64Binary_OnSigtermWithARequestInFlight_FinishesItBeforeExiting()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 8), null));
        try
        {
            var port = FreePort.Next();
            using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"), ["--models", models, "--data", _data, "--urls", $"http://127.0.0.1:{port}"], port);
            await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));

            // A request big enough to take a while: 4096 rows through the 4 MB MLP.
            var inputs = new[] { GeneratedModels.Features(seed: 3, rows: 4096) };
            var idle = CpuTicks(agent.Id);
            var inFlight = V2Client.InferBinaryAsync(agent.Http, "mlp", inputs);
            // The model is running once the agent has used 50 ms of CPU since the request left.
            await AgentHost.WaitUntilAsync(() => CpuTicks(agent.Id) > idle + 5 || inFlight.IsCompleted, TimeSpan.FromSeconds(10), "the request to run");
            Assert.False(inFlight.IsCompleted, "the request finished before SIGTERM; make it bigger");
            var exit = agent.TerminateAsync(TimeSpan.FromSeconds(30));

            var outputs = await inFlight;
            Assert.Equal([4096L, 1], outputs[0].Shape);
            using var reference = new BareOrt(Path.Combine(models, "mlp", "1", "model.onnx"));
            Assert.Equal(reference.Run(inputs)[0].Data, outputs[0].Data);
            Assert.Equal(0, await exit);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task X64Binary_UnderTypeNotify_SendsReadyThenWatchdogPingsThenStopping()
    {
        var socketPath = Path.Combine(_data, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        var port = FreePort.Next();
        using var agent = AgentProcess.Start(TestPaths.AotAgent("linux-x64"),
            ["--models", _models, "--data", _data, "--urls", $"http://127.0.0.1:{port}"], port,
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath, ["WATCHDOG_USEC"] = "200000" });

        var messages = new List<string>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (messages.Count(m => m == "WATCHDOG=1") < 2)
        {
            var received = await notify.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, received).Trim());
        }

        Assert.Equal("READY=1", messages.First(m => m != "WATCHDOG=1"));
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(15)));
        while (!messages.Contains("STOPPING=1"))
        {
            var received = await notify.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, received).Trim());
        }
    }

    /// <summary>User plus system CPU time of a process, in clock ticks (1/100 s).</summary>
    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task X64Binary_ProfileSubcommand_BuildsAProfileFromJsonInferRequests()
    {
        var inputs = TestPaths.NewTempDirectory("reference");
        using var reference = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
        for (var i = 0; i < 5; i++)
        {
            var tensor = SampleInputs.For("hey_jarvis", reference)[0];
            var values = NamedTensor.RandomFloats((int)(tensor.Data.Length / 4), seed: i, scale: 1 + i);
            await File.WriteAllTextAsync(Path.Combine(inputs, $"{i}.json"), V2Client.JsonRequest([NamedTensor.Floats(tensor.Name, tensor.Shape, values)]));
        }

        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(TestPaths.AotAgent("linux-x64"),
            ["profile", "--models", _models, "--model", "hey_jarvis", "--inputs", inputs]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Directory.Delete(inputs, recursive: true);

        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Contains("5 requests", await stdout, StringComparison.Ordinal);
        var profile = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_models, "hey_jarvis", "1", "profile.json")))!;
        var features = profile["features"]!.AsArray();
        // The [1,16,96] input is too big for a feature per element: its samples are summarised by mean and deviation.
        var std = features.Single(f => f!["name"]!.GetValue<string>().EndsWith(":std", StringComparison.Ordinal))!;
        Assert.Equal("input", std["kind"]!.GetValue<string>());
        Assert.Equal(5, std["count"]!.GetValue<long>());
        Assert.InRange(std["max"]!.GetValue<double>(), 5 / Math.Sqrt(3) * 0.95, 5 / Math.Sqrt(3) * 1.05); // uniform on ±5
        Assert.Contains(features, f => f!["kind"]!.GetValue<string>() == "output");
    }

    [Fact]
    public async Task Arm64Binary_UnderQemuUser_AnswersAnInferRequest()
    {
        var port = FreePort.Next();
        using var agent = AgentProcess.StartArm64UnderQemu(_models, _data, port);
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(180));

        // Different CPU kernels (NEON vs AVX): equal to within float rounding.
        await SampleModelOutputTests.AssertHeyJarvisCloseAsync(agent.Http, 1e-4f, "the arm64 agent under qemu-user");

        Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(60)));
    }

    private static double Reading(string metrics, string sensor, string reading)
    {
        var prefix = $"edge_sensor_reading{{sensor=\"{sensor}\",";
        var line = metrics.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains($"reading=\"{reading}\"}}", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
