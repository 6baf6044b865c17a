using System.Text.Json.Nodes;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using MQTTnet;

namespace EdgeInference.Tests.Fleet;

/// <summary>The fleet as an operator should run it: HTTPS and MQTT over TLS only, devices pinning the fleet's certificate.</summary>
public sealed class TlsTests
{
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);

    [Fact]
    public async Task ADeviceEnrolledWithTheFleetsPinnedCertificate_JoinsOverMqtts_AndInstallsARolloutOverHttps()
    {
        var root = TestPaths.NewTempDirectory("tls");
        await using var fleet = await FleetHost.StartTlsAsync();
        using var key = EdgeInference.Packaging.SigningKey.Generate();
        var v1 = Package.Build(Path.Combine(root, "packages"), "scorer", "1.0.0", V1, goldenFrom: V1, key);
        var v2 = Package.Build(Path.Combine(root, "packages"), "scorer", "2.0.0", V2, goldenFrom: V2, key);
        await fleet.PushAsync(v2.Manifest, v2.Signed, v2.Files);

        // Enrollment hands out the TLS broker address and the certificate to pin; nothing else is configured.
        var enrollment = await fleet.SendAsync(HttpMethod.Post, "devices/tls-1/enroll", null);
        var mqttUrl = enrollment!["mqtt_url"]!.GetValue<string>();
        var ca = enrollment["ca_pem"]!.GetValue<string>();
        Assert.Equal($"mqtts://127.0.0.1:{fleet.MqttPort}", mqttUrl);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", ca, StringComparison.Ordinal);

        var models = Path.Combine(root, "models");
        v1.InstallAsFirstVersion(models);
        var trusted = Directory.CreateDirectory(Path.Combine(root, "trusted")).FullName;
        await File.WriteAllTextAsync(Path.Combine(trusted, "ops.pub.pem"), key.PublicKeyPem());
        await using var agent = await AgentHost.StartAsync(models, null,
            "--mqtt", mqttUrl, "--device-id", "tls-1", "--mqtt-username", "tls-1", "--mqtt-password", enrollment["secret"]!.GetValue<string>(),
            $"--Mqtt:CaPem={ca}", "--trusted-keys", trusted, "--Updates:ProbationPeriod=00:00:01", "--Mqtt:ReconnectMaxDelay=00:00:01");
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("tls-1")?.Online == true, TimeSpan.FromSeconds(20), "the device online over mqtts");

        var started = await fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "100%", ["soak"] = "0s" });
        var done = await fleet.WaitForRolloutAsync(started!["rollout"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(60), "completed", "paused");
        Assert.Equal("completed", done["rollout"]!["state"]!.GetValue<string>());
        Assert.StartsWith("https://", fleet.Store.ListCommands("tls-1").Single().Message.Deploy!.PackageUrl, StringComparison.Ordinal);
        Assert.Equal("2.0.0", fleet.Store.GetDevice("tls-1")!.ServingVersion("scorer"));
    }

    [Fact]
    public async Task TheCli_PinningTheFleetsCertificate_TalksToItsHttps_AndWithoutItIsRefusedTheConnection()
    {
        await using var fleet = await FleetHost.StartTlsAsync();
        var env = new Dictionary<string, string> { ["EDGEFLEET_URL"] = fleet.Url, ["EDGEFLEET_TOKEN"] = FleetHost.OperatorToken };

        var (code, output) = await CliRunner.RunAsync(env, "devices", "list");
        Assert.Equal(EdgeInference.Fleet.Cli.ExitCodes.Unreachable, code);
        Assert.Contains("cannot reach the fleet", output, StringComparison.Ordinal);

        env["EDGEFLEET_CA"] = Path.Combine(fleet.Data, "tls", "fleet.crt.pem");
        (code, output) = await CliRunner.RunAsync(env, "devices", "enroll", "tls-cli", "--json");
        Assert.True(code == 0, output);
        Assert.StartsWith("mqtts://", JsonNode.Parse(output)!["mqtt_url"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatDoesNotPinTheFleetsCertificate_CannotConnectToItsTlsBroker()
    {
        await using var fleet = await FleetHost.StartTlsAsync();
        var secret = await fleet.EnrollAsync("tls-2");
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", fleet.MqttPort).WithClientId("edge-agent-tls-2").WithCredentials("tls-2", secret)
            .WithTlsOptions(tls => tls.UseTls()).WithTimeout(TimeSpan.FromSeconds(10)).Build();

        // The system's trust store does not know the fleet's own certificate: the handshake fails, no secret is sent.
        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(options));
        Assert.False(client.IsConnected);
    }
}
