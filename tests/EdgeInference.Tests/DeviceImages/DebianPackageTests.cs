using EdgeInference.Testing;

namespace EdgeInference.Tests.DeviceImages;

/// <summary>
/// The agent as a Debian package (<c>device-images/deb/build-deb.sh</c>): built for amd64 and arm64 from the published
/// AOT agent, clean under lintian, and installed, run, upgraded, removed and purged in a fresh Debian bookworm root
/// made by mmdebstrap, as a device owner's <c>apt install ./edge-agent_…deb</c> would.
/// </summary>
[Collection(Alone)]
public sealed class DebianPackageTests : IDisposable
{
    public const string Alone = "Debian packages, alone";

    private static readonly TimeSpan Minutes = TimeSpan.FromMinutes(10);
    private readonly string _work = TestPaths.NewTempDirectory("deb");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("linux-x64", "amd64")]
    [InlineData("linux-arm64", "arm64")]
    public async Task ThePackage_BuildsFromThePublishedAgent_AndLintianFindsNothingToFault(string rid, string architecture)
    {
        var deb = await BuildAsync(rid, null);

        Assert.EndsWith($"_{architecture}.deb", deb, StringComparison.Ordinal);
        var (code, output) = await ProgramRunner.RunAsync("dpkg-deb", ["--field", deb, "Package", "Architecture", "Depends"], Minutes);
        Assert.True(code == 0, output);
        Assert.Contains($"Architecture: {architecture}", output, StringComparison.Ordinal);
        (code, output) = await ProgramRunner.RunAsync("dpkg-deb", ["--contents", deb], Minutes);
        foreach (var path in new[] { "./usr/lib/edge-agent/edge-agent", "./usr/lib/edge-agent/libonnxruntime.so", "./usr/bin/edge-agent -> ../lib/edge-agent/edge-agent", "./lib/systemd/system/edge-agent.service", "./etc/edge-agent/agent.json", "./etc/edge-agent/agent.d/.keep", "./usr/share/doc/edge-agent/copyright" })
        {
            Assert.Contains(path, output, StringComparison.Ordinal);
        }

        // Errors and warnings alike (the package's overrides name what is bundled on purpose, and why).
        (code, output) = await ProgramRunner.RunAsync("lintian", ["--tag-display-limit", "0", "--fail-on", "error,warning", deb], Minutes);
        Assert.True(code == 0, output);
        Assert.DoesNotContain("\nE: ", "\n" + output, StringComparison.Ordinal);
        Assert.DoesNotContain("\nW: ", "\n" + output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InAFreshDebianRoot_ThePackageInstallsServesUpgradesAndIsRemovedThenPurged_AsDebianExpects()
    {
        var first = await BuildAsync("linux-x64", "0.1.0-1");
        var second = await BuildAsync("linux-x64", "0.1.0-2");
        var root = Path.Combine(_work, "root");
        var (code, output) = await ProgramRunner.RunAsync(
            "mmdebstrap", ["--variant=minbase", "--include=adduser,init-system-helpers,libssl3,libstdc++6,systemd", "--quiet", "bookworm", root], Minutes);
        Assert.True(code == 0, output);
        File.Copy(first, Path.Combine(root, "tmp", "first.deb"));
        File.Copy(second, Path.Combine(root, "tmp", "second.deb"));

        // Install: the system user, its state directories, the service enabled, and a unit systemd accepts.
        (code, output) = await InRootAsync(root, "dpkg -i /tmp/first.deb");
        Assert.True(code == 0, output);
        (code, output) = await InRootAsync(root, "id -u edge-agent && stat -c '%U %a' /var/lib/edge-agent /var/lib/edge-agent/models && stat -c '%G %a' /etc/edge-agent/agent.json"
            + " && readlink /etc/systemd/system/multi-user.target.wants/edge-agent.service && systemd-analyze verify /lib/systemd/system/edge-agent.service");
        Assert.True(code == 0, output);
        Assert.Contains("edge-agent 750\nedge-agent 750\nedge-agent 640\n/lib/systemd/system/edge-agent.service", output, StringComparison.Ordinal);

        // The installed agent runs as its user with the packaged configuration and answers as bare ONNX Runtime does.
        var models = Path.Combine(root, "var", "lib", "edge-agent", "models", "hey_jarvis", "1");
        Directory.CreateDirectory(models);
        File.Copy(SampleInputs.ModelPath("hey_jarvis"), Path.Combine(models, "model.onnx"));
        var port = FreePort.Next();
        using (var agent = AgentProcess.Start("unshare", ["-m", "sh", "-c",
            $"mount -t proc proc '{root}/proc' && chroot '{root}' install -d -o edge-agent -g edge-agent /run/edge-agent"
            + $" && exec chroot --userspec=edge-agent:edge-agent '{root}' /usr/bin/edge-agent --config /etc/edge-agent/agent.json --config /etc/edge-agent/agent.d --urls http://127.0.0.1:{port}"], port))
        {
            await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            using var reference = new BareOrt(SampleInputs.ModelPath("hey_jarvis"));
            var inputs = SampleInputs.For("hey_jarvis", reference);
            SampleModelOutputTests.AssertSame(reference.Run(inputs), await V2Client.InferJsonAsync(agent.Http, "hey_jarvis", inputs), "the packaged agent");
            Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        // Upgrade: the administrator's change to the conffile and the models stay; the new version is installed.
        var config = Path.Combine(root, "etc", "edge-agent", "agent.json");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("\"Default\": \"Information\"", "\"Default\": \"Warning\"", StringComparison.Ordinal));
        (code, output) = await InRootAsync(root, "dpkg -i /tmp/second.deb && dpkg-query -W -f '${Version}' edge-agent");
        Assert.True(code == 0, output);
        Assert.EndsWith("0.1.0-2", output.TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("\"Default\": \"Warning\"", await File.ReadAllTextAsync(config), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(models, "model.onnx")));

        // Remove: the program goes and the unit is masked (dh_installsystemd's way); models, data and configuration stay.
        (code, output) = await InRootAsync(root, "dpkg -r edge-agent");
        Assert.True(code == 0, output);
        Assert.False(File.Exists(Path.Combine(root, "usr", "lib", "edge-agent", "edge-agent")));
        Assert.Equal("/dev/null", new FileInfo(Path.Combine(root, "etc", "systemd", "system", "edge-agent.service")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(models, "model.onnx")));
        Assert.True(File.Exists(config));

        // Purge: the configuration, the state and every trace in systemd's configuration go too.
        (code, output) = await InRootAsync(root, "dpkg -P edge-agent");
        Assert.True(code == 0, output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "etc", "systemd"), "edge-agent*", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(root, "etc", "edge-agent")));
        Assert.False(Directory.Exists(Path.Combine(root, "var", "lib", "edge-agent")));
    }

    private async Task<string> BuildAsync(string rid, string? version)
    {
        var folder = Path.Combine(_work, version ?? rid);
        string[] arguments = [Path.Combine(TestPaths.RepositoryRoot, "device-images", "deb", "build-deb.sh"), Path.GetDirectoryName(TestPaths.AotAgent(rid))!, folder, .. version is null ? Array.Empty<string>() : [version]];
        var (code, output) = await ProgramRunner.RunAsync("bash", arguments, Minutes);
        Assert.True(code == 0, output);
        return output.Trim().Split('\n')[^1];
    }

    /// <summary>A shell command inside the Debian root, with /proc mounted in a mount namespace of its own (gone when it ends).</summary>
    private static Task<(int Code, string Output)> InRootAsync(string root, string command) =>
        ProgramRunner.RunAsync("unshare", ["-m", "sh", "-c", $"mount -t proc proc '{root}/proc' && exec chroot '{root}' sh -c \"$0\"", command], Minutes);
}
