using System.Text.Json.Nodes;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>Key rotation, revocation and version floors end to end: made and signed with <c>edgefleet trust</c>, carried by the fleet, enforced by real agents.</summary>
public sealed class TrustRolloutTests
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);

    [Fact]
    public async Task ATrustDocumentPushedThroughTheFleet_RevokesTheOldKey_TrustsTheNewOne_AndStopsAReplayedRollbackBelowTheFloor()
    {
        await using var bed = await FleetTestbed.StartAsync();
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = bed.Fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };
        var keys = Path.Combine(bed.Root, "keys");
        foreach (var name in new[] { "root-1", "root-2", "signer-2" })
        {
            Assert.Equal(0, (await CliRunner.RunAsync(env, "keys", "generate", "--out", keys, "--name", name)).Code);
        }

        var roots = Directory.CreateDirectory(Path.Combine(bed.Root, "roots")).FullName;
        File.Copy(Path.Combine(keys, "root-1.pub.pem"), Path.Combine(roots, "root-1.pub.pem"));
        File.Copy(Path.Combine(keys, "root-2.pub.pem"), Path.Combine(roots, "root-2.pub.pem"));
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        await bed.StartAgentsAsync(1, v1, _ => [], "--root-keys", roots, "--Updates:RootThreshold=2");
        var device = FleetTestbed.DeviceId(0);
        await File.WriteAllTextAsync(Path.Combine(keys, "signer-1.pub.pem"), bed.Key.PublicKeyPem());

        // Version 1, signed by one root of two: the fleet refuses it before any device sees it.
        var trust = Path.Combine(bed.Root, "trust.json");
        var (code, output) = await CliRunner.RunAsync(env,
            "trust", "create", "--version", "1", "--root", Path.Combine(keys, "root-1.pub.pem"), "--root", Path.Combine(keys, "root-2.pub.pem"), "--threshold", "2",
            "--signing-key", Path.Combine(keys, "signer-2.pub.pem"), "--revoke", bed.Key.KeyId, "--floor", "scorer=1.0.0",
            "--sign", Path.Combine(keys, "root-1.key.pem"), "--out", trust);
        Assert.True(code == 0, output);
        (code, output) = await CliRunner.RunAsync(env, "trust", "push", trust);
        Assert.NotEqual(0, code);
        Assert.Contains("signed by 1 of the current root keys; 2 are needed", output, StringComparison.Ordinal);

        // The second root signs; pushed, every device takes it and says so.
        Assert.Equal(0, (await CliRunner.RunAsync(env, "trust", "sign", trust, "--key", Path.Combine(keys, "root-2.key.pem"))).Code);
        (code, output) = await CliRunner.RunAsync(env, "trust", "push", trust);
        Assert.True(code == 0, output);
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetDevice(device)?.TrustVersion == 1, TimeSpan.FromSeconds(30), "the device to hold trust version 1");

        // A package signed by the revoked key is refused as revoked; one signed by the new key installs.
        await bed.PushAsync(bed.BuildPackage("scorer", "2.0.0", V2, goldenFrom: V2, bed.Key));
        Assert.Equal("revoked_key", await FailedRolloutReasonAsync(bed, "2.0.0"));
        using var signer = SigningKey.FromPem(await File.ReadAllTextAsync(Path.Combine(keys, "signer-2.key.pem")));
        await bed.PushAsync(bed.BuildPackage("scorer", "2.0.1", V2, goldenFrom: V2, signer));
        var installed = await StartRolloutAsync(bed, "2.0.1");
        Assert.Equal("completed", (await bed.Fleet.WaitForRolloutAsync(installed, TimeSpan.FromSeconds(60), "completed", "paused"))["rollout"]!["state"]!.GetValue<string>());

        // A signed rollback below the floor — the replay of an old, validly signed package — is refused.
        await bed.PushAsync(bed.BuildPackage("scorer", "0.9.0", V1, goldenFrom: V1, signer, m => m.Rollback = true));
        Assert.Equal("below_floor", await FailedRolloutReasonAsync(bed, "0.9.0"));
        Assert.Equal("2.0.1", bed.Fleet.Store.GetDevice(device)!.ServingVersion("scorer"));
    }

    private static async Task<string> StartRolloutAsync(FleetTestbed bed, string version) =>
        (await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = version, ["stages"] = "100%", ["soak"] = "0s" }))!["rollout"]!["id"]!.GetValue<string>();

    private static async Task<string?> FailedRolloutReasonAsync(FleetTestbed bed, string version)
    {
        var id = await StartRolloutAsync(bed, version);
        var stopped = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "paused", "completed");
        await bed.Fleet.SendAsync(HttpMethod.Post, $"rollouts/{id}/abort", null);
        return Assert.Single(stopped["devices"]!.AsArray())!["reason"]?.GetValue<string>();
    }
}
