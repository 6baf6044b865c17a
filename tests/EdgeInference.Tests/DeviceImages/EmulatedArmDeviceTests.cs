using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using Xunit.Abstractions;

namespace EdgeInference.Tests.DeviceImages;

/// <summary>
/// The agent on an emulated ARM64 Debian device (device-images/vm: bookworm arm64, systemd, Debian's kernel, the
/// edge-agent .deb), booted with qemu-system-aarch64 -M virt under TCG: systemd starts it as the package installed
/// it, it serves over a forwarded port, its watchdog restarts it when it hangs, it joins the host's fleet and installs
/// what a rollout sends, and an update from local media that loses power halfway is finished at the next boot.
/// </summary>
[Trait("Category", "DeviceImage")]
[Collection(DebianPackageTests.Alone)]
public sealed partial class EmulatedArmDeviceTests : IDisposable
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(6);
    private readonly string _work = TestPaths.NewTempDirectory("arm-device");
    private readonly ITestOutputHelper _output;

    public EmulatedArmDeviceTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task SystemdStartsTheAgentWhenItIsReady_ItServesHeyJarvisAsBareOrt_AndTheWatchdogRestartsItWhenItHangs()
    {
        await EmulatedArmDevice.CopyImageAsync(_work);
        await InstallModelAsync("hey_jarvis");
        await using var device = EmulatedArmDevice.Boot(_work, FreePort.Next());

        await device.WaitForConsoleAsync(@"root@edge-vm:~#", Boot);
        var booted = device.Started.Elapsed;
        await WaitReadyAsync(device);
        var ready = device.Started.Elapsed;
        var (_, show) = await device.RunAsync("systemctl show edge-agent -p Type -p ActiveState -p SubState -p WatchdogUSec -p UnitFileState -p MainPID", Boot);
        Assert.Contains("Type=notify", show, StringComparison.Ordinal);
        Assert.Contains("ActiveState=active", show, StringComparison.Ordinal);
        Assert.Contains("SubState=running", show, StringComparison.Ordinal);
        Assert.Contains("WatchdogUSec=30s", show, StringComparison.Ordinal);
        Assert.Contains("UnitFileState=enabled", show, StringComparison.Ordinal);
        var pid = MainPid().Match(show).Groups[1].Value;

        // Type=notify: systemd calls it started only at READY=1, which the agent sends once its repository has loaded.
        var (_, journal) = await device.RunAsync("journalctl -b --no-pager -o cat | grep -E 'Serving 1 model|Started edge-agent.service|Started EdgeInference device agent'", Boot);
        var lines = journal.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2 && lines[0].Contains("Serving 1 model", StringComparison.Ordinal) && lines[1].StartsWith("Started", StringComparison.Ordinal), journal);

        await AssertServesAsBareOrtAsync(device);

        // A hung agent stops pinging the watchdog: systemd kills it (SIGABRT) after WatchdogSec and starts it again.
        var stopped = Stopwatch.StartNew();
        var (code, output) = await device.RunAsync("systemctl kill -s SIGSTOP edge-agent", Boot);
        Assert.True(code == 0, output);
        string restarted;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            (_, restarted) = await device.RunAsync("systemctl show edge-agent -p MainPID -p NRestarts -p ActiveState", Boot);
        }
        while ((MainPid().Match(restarted).Groups[1].Value == pid || !restarted.Contains("ActiveState=active", StringComparison.Ordinal)) && stopped.Elapsed < Boot);
        var recovered = stopped.Elapsed;
        Assert.Contains("NRestarts=1", restarted, StringComparison.Ordinal);
        (_, output) = await device.RunAsync("journalctl -u edge-agent --no-pager | grep -c 'Watchdog timeout'", Boot);
        Assert.Equal("1", output.Trim());
        await AssertServesAsBareOrtAsync(device);

        _output.WriteLine($"booted to a shell in {booted.TotalSeconds:0} s; agent ready {ready.TotalSeconds:0} s after QEMU started; "
            + $"a SIGSTOPped agent was running again {recovered.TotalSeconds:0} s later (WatchdogSec=30)");
        Assert.InRange(recovered, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30 + 2 + 120));
    }

    [Fact]
    public async Task APowerCutHalfwayThroughAnUpdate_IsFinishedAtTheNextBoot_AndTheVerifiedModelServes()
    {
        // Two versions of a 4 MB model, signed off-line and archived as `edgefleet models export` writes them.
        await EmulatedArmDevice.CopyImageAsync(_work);
        using var key = SigningKey.Generate();
        var models = new Dictionary<string, byte[]> { ["1.0.0"] = GeneratedModels.Mlp(seed: 31), ["2.0.0"] = GeneratedModels.Mlp(seed: 32) };
        var commands = new List<string> { $"write {await WriteTextAsync("ops.pub.pem", key.PublicKeyPem())} /etc/edge-agent/trusted-keys/ops.pub.pem" };
        foreach (var (version, model) in models)
        {
            var package = Package.Build(Path.Combine(_work, "packages"), "scorer", version, model, model, key);
            var archive = Path.Combine(_work, $"scorer-{version}.tar");
            await using (var stream = File.Create(archive))
            {
                await PackageArchive.WriteAsync(stream, package.Signed, Path.GetDirectoryName(package.Files[PackageRoles.Model])!, CancellationToken.None);
            }

            commands.Add($"write {archive} /root/scorer-{version}.tar");
        }

        await EmulatedArmDevice.EditDiskAsync(_work, [.. commands]);
        var port = FreePort.Next();
        await using (var device = EmulatedArmDevice.Boot(_work, port))
        {
            await device.WaitForConsoleAsync(@"root@edge-vm:~#", Boot);
            await WaitReadyAsync(device);
            var (code, output) = await device.RunAsync("edge-agent install /root/scorer-1.0.0.tar --wait 600", Boot);
            Assert.True(code == 0, output);
            await AssertServesAsync(device, "1", models["1.0.0"]);

            // The next update stops just before its switch (Updates:HoldAt, the crash tests' hook), and there the power goes.
            (code, output) = await device.RunAsync(
                "sed -i 's/\"Updates\": {/\"Updates\": {\\n    \"HoldAt\": \"switch\",/' /etc/edge-agent/agent.json && systemctl restart edge-agent", Boot);
            Assert.True(code == 0, output);
            await WaitReadyAsync(device);
            (code, output) = await device.RunAsync("edge-agent install /root/scorer-2.0.0.tar --wait 0", Boot);
            Assert.True(code == 0, output);
            var held = Stopwatch.StartNew();
            do
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                (_, output) = await device.RunAsync("journalctl -u edge-agent --no-pager -o cat | grep -c \"holding at 'switch'\"", Boot);
            }
            while (output.Trim() != "1" && held.Elapsed < Boot);
            Assert.Equal("1", output.Trim());
            (code, output) = await device.RunAsync("sed -i '/\"HoldAt\"/d' /etc/edge-agent/agent.json && sync", Boot);
            Assert.True(code == 0, output);
            await device.PowerCutAsync();
        }

        // The next boot: the update's durable record resumes it; the switched version is verified and serves.
        await using (var device = EmulatedArmDevice.Boot(_work, port))
        {
            await device.WaitForConsoleAsync(@"root@edge-vm:~#", Boot);
            var resumed = Stopwatch.StartNew();
            await AssertServesAsync(device, "2", models["2.0.0"]);
            _output.WriteLine($"after the power cut, 2.0.0 served {resumed.Elapsed.TotalSeconds:0} s after the shell came up");
            var (_, journal) = await device.RunAsync("journalctl -b -u edge-agent --no-pager -o cat | grep -E 'resumes after a restart|confirmed after probation'", Boot);
            Assert.Contains("scorer 2.0.0 resumes after a restart", journal, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheDeviceJoinsTheHostsFleetOverMqtts_AndInstallsTheSignedPackageARolloutSends()
    {
        // The fleet on this machine, TLS only. The device reaches it as 10.0.2.2 (QEMU's user network maps that address
        // to this machine's loopback), so that is its public address, and its certificate names it.
        var httpPort = FreePort.Next();
        await using var fleet = await FleetHost.StartTlsOnPortAsync(Path.Combine(_work, "fleet"), httpPort, "--public-url", $"https://10.0.2.2:{httpPort}");
        using var key = SigningKey.Generate();
        var model = GeneratedModels.Mlp(seed: 33);
        var package = Package.Build(Path.Combine(_work, "packages"), "scorer", "1.0.0", model, model, key);
        await fleet.PushAsync(package.Manifest, package.Signed, package.Files);

        // Enrolled as the README says: edgefleet writes the device's settings (broker, secret, the certificate to pin),
        // and they go into the agent's drop-in folder, 0640 root:edge-agent, beside the operators' public key.
        var settings = Path.Combine(_work, "fleet.json");
        var (code, output) = await CliRunner.RunAsync(
            new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken, ["EDGEFLEET_CA"] = Path.Combine(fleet.Data, "tls", "fleet.crt.pem") },
            "devices", "enroll", "vm-01", "--out", settings);
        Assert.True(code == 0, output);
        Assert.Contains($"mqtts://10.0.2.2:{fleet.MqttPort}", await File.ReadAllTextAsync(settings), StringComparison.Ordinal);
        await EmulatedArmDevice.CopyImageAsync(_work);
        var (_, gid) = await AgentUserAsync();
        var quick = await WriteTextAsync("quick.json", """{ "Updates": { "ProbationPeriod": "00:00:05" }, "Mqtt": { "TelemetryInterval": "00:00:02" } }""");
        string[] dropIns = ["/etc/edge-agent/agent.d/50-fleet.json", "/etc/edge-agent/agent.d/90-quick.json"];
        await EmulatedArmDevice.EditDiskAsync(_work,
        [
            $"write {await WriteTextAsync("ops.pub.pem", key.PublicKeyPem())} /etc/edge-agent/trusted-keys/ops.pub.pem",
            $"write {settings} {dropIns[0]}", $"write {quick} {dropIns[1]}",
            .. dropIns.SelectMany(p => new[] { $"set_inode_field {p} uid 0", $"set_inode_field {p} gid {gid}", $"set_inode_field {p} mode 0100640" }),
        ]);

        await using var device = EmulatedArmDevice.Boot(_work, FreePort.Next());
        await device.WaitForConsoleAsync(@"root@edge-vm:~#", Boot);
        await WaitReadyAsync(device);
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("vm-01")?.Online == true, Boot, "the emulated device online in the fleet over mqtts");
        var joined = device.Started.Elapsed;

        var rolling = Stopwatch.StartNew();
        var started = await fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "1.0.0", ["stages"] = "100%", ["soak"] = "0s" });
        var done = await fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), Boot, "completed", "paused", "rolled_back", "aborted");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        var installed = rolling.Elapsed;
        Assert.StartsWith($"https://10.0.2.2:{httpPort}/api/v1/packages/scorer/1.0.0", fleet.Store.ListCommands("vm-01").Single().Message.Deploy!.PackageUrl, StringComparison.Ordinal);
        Assert.Equal("1.0.0", fleet.Store.GetDevice("vm-01")!.ServingVersion("scorer"));
        await AssertServesAsync(device, "1", model);

        // What the device says about it, in its own journal: verified against the pinned key, then confirmed.
        (_, output) = await device.RunAsync("journalctl -b -u edge-agent --no-pager -o cat | grep -E 'scorer 1.0.0' | tail -5", Boot);
        Assert.Contains("confirmed after probation", output, StringComparison.Ordinal);
        _output.WriteLine($"online in the fleet {joined.TotalSeconds:0} s after QEMU started; the rollout completed {installed.TotalSeconds:0.0} s after it started");
    }

    [GeneratedRegex(@"MainPID=(\d+)")]
    private static partial Regex MainPid();

    private static async Task WaitReadyAsync(EmulatedArmDevice device)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Boot)
        {
            try
            {
                using var response = await device.Http.GetAsync("/v2/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var (_, journal) = await device.RunAsync("systemctl status edge-agent --no-pager; journalctl -b -u edge-agent --no-pager | tail -40", TimeSpan.FromMinutes(1));
        Assert.Fail($"the agent was not ready within {Boot}:\n{journal}");
    }

    private static async Task AssertServesAsBareOrtAsync(EmulatedArmDevice device)
    {
        await WaitReadyAsync(device);
        await SampleModelOutputTests.AssertHeyJarvisCloseAsync(device.Http, 1e-4f, "the emulated device (NEON against AVX kernels)");
    }

    /// <summary>Waits until <paramref name="version"/> of scorer serves, then checks its answer against bare ONNX Runtime on <paramref name="model"/>.</summary>
    private async Task AssertServesAsync(EmulatedArmDevice device, string version, byte[] model)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await WaitReadyAsync(device);
            using var response = await device.Http.GetAsync("/v2/models/scorer");
            var metadata = response.IsSuccessStatusCode ? System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
            if (metadata?["version"]?.GetValue<string>() == version && metadata["state"]?.GetValue<string>() == "READY")
            {
                break;
            }

            Assert.True(deadline.Elapsed < Boot, $"scorer {version} did not serve within {Boot}: {metadata}");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var file = Path.Combine(_work, $"scorer-{version}.onnx");
        await File.WriteAllBytesAsync(file, model);
        using var reference = new BareOrt(file);
        var features = NamedTensor.Floats("features", [1, 512], NamedTensor.RandomFloats(512, seed: 9));
        var expected = reference.Run([features])[0].AsFloats()[0];
        var actual = (await V2Client.InferJsonAsync(device.Http, "scorer", [features]))[0].AsFloats()[0];
        Assert.InRange(actual, expected - 1e-3f, expected + 1e-3f); // NEON against AVX kernels
    }

    private async Task<string> WriteTextAsync(string name, string text)
    {
        var path = Path.Combine(_work, name);
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    /// <summary>The uid and gid of the agent's system user on the disk.</summary>
    private async Task<(string Uid, string Gid)> AgentUserAsync()
    {
        var passwd = await EmulatedArmDevice.EditDiskAsync(_work, "cat /etc/passwd");
        var ids = Regex.Match(passwd, @"^edge-agent:[^:]*:(\d+):(\d+):", RegexOptions.Multiline);
        Assert.True(ids.Success, passwd);
        return (ids.Groups[1].Value, ids.Groups[2].Value);
    }

    /// <summary>Puts a sample model into the disk's model repository, owned by the agent's user, as an installer would.</summary>
    private async Task InstallModelAsync(string model)
    {
        var (uid, gid) = await AgentUserAsync();
        var root = $"/var/lib/edge-agent/models/{model}";
        string[] paths = [root, $"{root}/1", $"{root}/1/model.onnx"];
        await EmulatedArmDevice.EditDiskAsync(_work,
        [
            $"mkdir {root}", $"mkdir {root}/1", $"write {SampleInputs.ModelPath(model)} {root}/1/model.onnx",
            .. paths.SelectMany(p => new[] { $"set_inode_field {p} uid {uid}", $"set_inode_field {p} gid {gid}" }),
        ]);
    }
}
