using System.Formats.Tar;
using System.Text.Json;
using EdgeInference.Contracts;
using EdgeInference.Agent.Updates;
using EdgeInference.Fleet.Cli;
using EdgeInference.Packaging;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Updates;

/// <summary>
/// <c>edge-agent install PACKAGE.tar</c> (written by <c>edgefleet models export</c>) on a device whose fleet is out of
/// reach: the package waits in the inbox while the agent is stopped, is installed when it starts, and goes through
/// the checks of an over-the-air update: a tampered file and a downgrade are refused and the serving version stays.
/// </summary>
public sealed class OfflineInstallTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("offline");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task APackageFromLocalMedia_IsInstalledAsAnUpdate_AndATamperedOneOrADowngradeIsRefused()
    {
        // The operator's side: three signed versions pushed to the fleet and exported as archives.
        var archives = new Dictionary<string, string>(StringComparer.Ordinal);
        var models = new Dictionary<string, byte[]> { ["1.0.0"] = GeneratedModels.Mlp(seed: 1), ["2.0.0"] = GeneratedModels.Mlp(seed: 2), ["3.0.0"] = GeneratedModels.Mlp(seed: 3) };
        var trusted = Directory.CreateDirectory(Path.Combine(_root, "trusted")).FullName;
        await using (var fleet = await FleetHost.StartAsync(Path.Combine(_root, "fleet")))
        {
            var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };
            var (code, output) = await CliRunner.RunAsync(env, "keys", "generate", "--out", Path.Combine(_root, "keys"), "--name", "ops");
            Assert.True(code == ExitCodes.Ok, output);
            File.Copy(Path.Combine(_root, "keys", "ops.pub.pem"), Path.Combine(trusted, "ops.pub.pem"));
            foreach (var (version, model) in models)
            {
                var file = Path.Combine(_root, $"scorer-{version}.onnx");
                await File.WriteAllBytesAsync(file, model);
                (code, output) = await CliRunner.RunAsync(env, "models", "push", file, "--name", "scorer", "--version", version, "--sign-key", Path.Combine(_root, "keys", "ops.key.pem"));
                Assert.True(code == ExitCodes.Ok, output);
                archives[version] = Path.Combine(_root, "media", $"scorer-{version}.tar");
                (code, output) = await CliRunner.RunAsync(env, "models", "export", $"scorer@{version}", "--out", archives[version]);
                Assert.True(code == ExitCodes.Ok, output);
            }
        }

        // The device: its fleet's broker is unreachable (nothing listens there); the agent is stopped at first.
        var device = Directory.CreateDirectory(Path.Combine(_root, "device", "models")).FullName;
        var data = Path.Combine(_root, "device", "data");
        string[] agentArgs = ["--mqtt", $"mqtt://127.0.0.1:{FreePort.Next()}", "--device-id", "field-01", "--mqtt-username", "field-01", "--mqtt-password", "secret",
            "--trusted-keys", trusted, "--Updates:ProbationPeriod=00:00:01", "--Agent:PollInterval=00:00:00.200"];

        var (queued, queuedOutput) = await InstallAsync(archives["1.0.0"], data, "--wait", "0");
        Assert.True(queued == 0, queuedOutput);
        Assert.Contains("scorer 1.0.0", queuedOutput, StringComparison.Ordinal);

        await using var agent = await AgentHost.StartAsync(device, data, agentArgs);
        var status = LocalPackageInbox.StatusPath(Path.Combine(data, LocalPackageInbox.FolderName), queuedOutput.Trim().Split(LocalPackageInbox.CommandPrefix)[^1]);
        await AgentHost.WaitUntilAsync(
            () => File.Exists(status) && JsonSerializer.Deserialize(File.ReadAllBytes(status), ContractJsonContext.Default.ReplyMessage) is { Final: true },
            TimeSpan.FromSeconds(60), "1.0.0, queued while the agent was stopped, installed at its start and confirmed");
        Assert.Equal(ReplyState.Succeeded, JsonSerializer.Deserialize(File.ReadAllBytes(status), ContractJsonContext.Default.ReplyMessage)!.State);
        Assert.True(await ServesAsync(agent, models["1.0.0"]), "1.0.0 serves");

        // Installed while the agent runs: the command follows it to the end of its probation.
        var (code2, output2) = await InstallAsync(archives["2.0.0"], data);
        Assert.True(code2 == 0, output2);
        Assert.Contains("succeeded", output2, StringComparison.Ordinal);
        Assert.True(await ServesAsync(agent, models["2.0.0"]), "2.0.0 serves");

        // A newer version whose model changed on the stick (same size, other bytes): refused by the signed hash.
        var tampered = Path.Combine(_root, "media", "scorer-3.0.0-tampered.tar");
        await TamperAsync(archives["3.0.0"], tampered);
        var (code3, output3) = await InstallAsync(tampered, data);
        Assert.Equal(1, code3);
        Assert.Contains("hash_mismatch", output3, StringComparison.Ordinal);

        // An older version than the one serving: refused as a downgrade, as an over-the-air one would be.
        var (code4, output4) = await InstallAsync(archives["1.0.0"], data);
        Assert.Equal(1, code4);
        Assert.Contains("downgrade", output4, StringComparison.Ordinal);
        Assert.True(await ServesAsync(agent, models["2.0.0"]), "2.0.0 still serves");
        AssertNoPackageLeft(data);

        // Not an archive at all: said so, and nothing is left in the inbox.
        var (code5, output5) = await InstallAsync(Path.Combine(_root, "scorer-1.0.0.onnx"), data);
        Assert.Equal(1, code5);
        Assert.Contains("scorer-1.0.0.onnx", output5, StringComparison.Ordinal);
        AssertNoPackageLeft(data);
    }

    [Fact]
    public async Task ADeviceWithNoFleetAtAll_InstallsFromLocalMedia_WithOnlyItsTrustedKeys()
    {
        // A package built and signed off-line (no fleet anywhere), archived for the stick.
        using var key = SigningKey.Generate();
        var trusted = Directory.CreateDirectory(Path.Combine(_root, "trusted")).FullName;
        await File.WriteAllTextAsync(Path.Combine(trusted, "ops.pub.pem"), key.PublicKeyPem());
        var model = GeneratedModels.Mlp(seed: 4);
        var package = Package.Build(_root, "scorer", "1.0.0", model, null, key);
        var folder = Path.GetDirectoryName(package.Files[PackageRoles.Model])!;
        var archive = Path.Combine(_root, "scorer-1.0.0.tar");
        await using (var stream = File.Create(archive))
        {
            await PackageArchive.WriteAsync(stream, package.Signed, folder, CancellationToken.None);
        }

        var data = Path.Combine(_root, "device", "data");
        await using var agent = await AgentHost.StartAsync(Directory.CreateDirectory(Path.Combine(_root, "device", "models")).FullName, data,
            "--trusted-keys", trusted, "--Updates:ProbationPeriod=00:00:01", "--Agent:PollInterval=00:00:00.200");
        var (code, output) = await InstallAsync(archive, data);

        Assert.True(code == 0, output);
        Assert.True(await ServesAsync(agent, model), "the package serves");
        AssertNoPackageLeft(data);
    }

    private static void AssertNoPackageLeft(string data)
    {
        var inbox = Path.Combine(data, LocalPackageInbox.FolderName);
        Assert.True(!Directory.EnumerateDirectories(inbox).Any(), $"left in the inbox: {string.Join(", ", Directory.EnumerateFileSystemEntries(inbox).Select(Path.GetFileName))}");
    }

    private static async Task<(int Code, string Output)> InstallAsync(string archive, string data, params string[] more)
    {
        using var output = new StringWriter();
        var code = await InstallCommand.RunAsync([archive, "--data", data, "--wait", "60", .. more], output, output, TimeProvider.System, CancellationToken.None);
        return (code, output.ToString());
    }

    /// <summary>Whether the agent answers as bare ONNX Runtime does on <paramref name="model"/>.</summary>
    private static async Task<bool> ServesAsync(AgentHost agent, byte[] model)
    {
        var input = GeneratedModels.Features(seed: 5);
        try
        {
            var served = await V2Client.InferJsonAsync(agent.Http, "scorer", [input]);
            var path = Path.GetTempFileName();
            try
            {
                await File.WriteAllBytesAsync(path, model);
                using var reference = new BareOrt(path);
                return reference.Run([input]).Single().Data.AsSpan().SequenceEqual(served.Single().Data);
            }
            finally
            {
                File.Delete(path);
            }
        }
        catch (HttpRequestException)
        {
            return false; // not loaded yet
        }
    }

    /// <summary>A copy of the archive with one byte of its model changed.</summary>
    private static async Task TamperAsync(string source, string target)
    {
        await using var input = File.OpenRead(source);
        await using var output = File.Create(target);
        await using var reader = new TarReader(input);
        await using var writer = new TarWriter(output, TarEntryFormat.Pax);
        while (await reader.GetNextEntryAsync(copyData: true) is { } entry)
        {
            if (entry.Name == "model.onnx")
            {
                using var bytes = new MemoryStream();
                await entry.DataStream!.CopyToAsync(bytes);
                var data = bytes.ToArray();
                data[^1] ^= 0xFF;
                entry.DataStream = new MemoryStream(data);
            }

            await writer.WriteEntryAsync(entry);
        }
    }
}
