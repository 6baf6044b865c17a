using EdgeInference.Fleet.Cli;
using EdgeInference.Storage;
using EdgeInference.Testing;
using Spectre.Console;

namespace EdgeInference.Tests.Storage;

/// <summary>Secrets and databases with other people's data are owner-only (0600 files, 0700 folders) whatever the umask.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PrivateFilesTests
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = OwnerOnlyFile | UnixFileMode.UserExecute;

    [Fact]
    public async Task TheFleetsDataFolder_OperatorToken_AndStore_AreOwnerOnly()
    {
        var data = Path.Combine(TestPaths.NewTempDirectory("private-fleet"), "data");
        await using (await FleetHost.StartAsync(data))
        {
        }

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(data));
        foreach (var file in new[] { "operator.token", "fleet.db", "fleet.db.journal" })
        {
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, file)));
        }
    }

    [Fact]
    public async Task TheAgentsDataFolder_PredictionLog_AndOutbox_AreOwnerOnly()
    {
        var root = TestPaths.NewTempDirectory("private-agent");
        var models = Directory.CreateDirectory(Path.Combine(root, "models")).FullName;
        var data = Path.Combine(root, "data");
        await using var fleet = await FleetHost.StartAsync();
        var secret = await fleet.EnrollAsync("private-a");
        await using (await AgentHost.StartAsync(models, data, fleet.AgentArguments("private-a", secret, Path.Combine(root, "trusted"))))
        {
        }

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(data));
        foreach (var file in new[] { "predictions.db", "predictions.db.journal", "outbox.db", "outbox.db.journal" })
        {
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, file)));
        }
    }

    [Fact]
    public async Task TheClisPrivateKey_AndEnrolledDeviceSettings_AreOwnerOnly_EvenOverAWorldReadableFile()
    {
        var root = TestPaths.NewTempDirectory("private-cli");
        await using var fleet = await FleetHost.StartAsync();
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };
        var keys = Path.Combine(root, "keys");
        Assert.Equal(ExitCodes.Ok, await RunAsync(env, "keys", "generate", "--out", keys, "--name", "ops"));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(keys));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(keys, "ops.key.pem")));

        var settings = Path.Combine(root, "device.json");
        await File.WriteAllTextAsync(settings, "{}");
        File.SetUnixFileMode(settings, OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Equal(ExitCodes.Ok, await RunAsync(env, "devices", "enroll", "pi-01", "--out", settings));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(settings));
        Assert.Contains("\"Password\"", await File.ReadAllTextAsync(settings), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteNew_RefusesToReplaceAnExistingFile()
    {
        var file = Path.Combine(TestPaths.NewTempDirectory("private-new"), "secret");
        PrivateFiles.WriteNew(file, "one");
        Assert.Throws<IOException>(() => PrivateFiles.WriteNew(file, "two"));
        Assert.Equal("one", File.ReadAllText(file));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(file));
    }

    private static async Task<int> RunAsync(Dictionary<string, string> env, params string[] args) => (await CliRunner.RunAsync(env, args)).Code;
}
