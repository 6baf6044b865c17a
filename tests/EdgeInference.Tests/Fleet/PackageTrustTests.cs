using System.Text.Json.Nodes;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests.Fleet;

/// <summary>Packages a device must refuse, each pushed and rolled out for real; the device reports why and keeps serving what it had.</summary>
public sealed class PackageTrustTests
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);

    [Fact]
    public async Task Deploy_OfUnsignedWrongKeyTamperedExpiredOversizedDowngradeOrTooNewPackages_IsRefusedWithTheReason()
    {
        await using var bed = await FleetTestbed.StartAsync();
        using var stranger = SigningKey.Generate();
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        await bed.PushAsync(v1);
        await bed.StartAgentsAsync(1, v1, _ => ["role=main"]);
        await bed.StartAgentsAsync(1, v1, _ => ["role=small"], "--Updates:MaxPackageBytes=100");

        var cases = new (string Version, string Target, Func<Package> Build, string Reason, Action? Tamper)[]
        {
            ("2.0.1", "main", () => bed.BuildPackage("scorer", "2.0.1", V2, null, key: null), RejectionReasons.Unsigned, null),
            ("2.0.2", "main", () => bed.BuildPackage("scorer", "2.0.2", V2, null, stranger), RejectionReasons.UntrustedKey, null),
            ("2.0.3", "main", () => bed.BuildPackage("scorer", "2.0.3", V2, null, bed.Key), RejectionReasons.HashMismatch, () => FlipAByte(bed, "2.0.3")),
            ("2.0.4", "main", () => bed.BuildPackage("scorer", "2.0.4", V2, null, bed.Key, m => m.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1)), RejectionReasons.Expired, null),
            ("2.0.5", "small", () => bed.BuildPackage("scorer", "2.0.5", V2, null, bed.Key), RejectionReasons.TooLarge, null),
            ("0.9.0", "main", () => bed.BuildPackage("scorer", "0.9.0", V2, null, bed.Key), RejectionReasons.Downgrade, null),
            ("2.0.6", "main", () => bed.BuildPackage("scorer", "2.0.6", V2, null, bed.Key, m => m.MinAgentVersion = "99.0.0"), RejectionReasons.AgentTooOld, null),
        };
        foreach (var (version, target, build, reason, tamper) in cases)
        {
            await bed.PushAsync(build());
            tamper?.Invoke();
            var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = version, ["target"] = $"role={target}", ["stages"] = "100%", ["soak"] = "0s" });
            var id = started!["rollout"]!["id"]!.GetValue<string>();
            var stopped = await bed.Fleet.WaitForRolloutAsync(id, TimeSpan.FromSeconds(30), "paused", "completed");

            Assert.True(stopped["rollout"]!["state"]!.GetValue<string>() == "paused", $"{version}: {stopped.ToJsonString()}");
            var device = Assert.Single(stopped["devices"]!.AsArray());
            Assert.Equal("failed", device!["state"]!.GetValue<string>());
            Assert.True(reason == device["reason"]?.GetValue<string>(), $"{version}: expected {reason}, got {device.ToJsonString()}");
            Assert.False(string.IsNullOrEmpty(device["message"]?.GetValue<string>()), $"{version}: the refusal has no message");
            await bed.Fleet.SendAsync(HttpMethod.Post, $"rollouts/{id}/abort", null);
        }

        // Nothing touched the repositories: each device serves its one verified version, with no staging left.
        foreach (var agent in bed.Agents)
        {
            Assert.Equal([1L], agent.Models.Find("scorer")!.Versions.Select(v => v.Version));
            Assert.Equal("1.0.0", bed.Fleet.Store.GetDevice(bed.IdOf(agent))!.ServingVersion("scorer"));
            Assert.False(Directory.Exists(Path.Combine(agent.Models.Root, ".staging", "scorer", "2")), "a refused package left staging behind");
        }

        // The positive control: a signed rollback package may go below the installed version.
        await bed.PushAsync(bed.BuildPackage("scorer", "0.8.0", V2, goldenFrom: V2, bed.Key, m => m.Rollback = true));
        var allowed = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "0.8.0", ["target"] = "role=main", ["stages"] = "100%", ["soak"] = "0s" });
        var done = await bed.Fleet.WaitForRolloutAsync(allowed!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(30), "completed", "paused");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
    }

    private static void FlipAByte(FleetTestbed bed, string version)
    {
        var path = Path.Combine(bed.Fleet.Data, "packages", "scorer", version, "model.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x5a;
        File.WriteAllBytes(path, bytes);
    }
}
