using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeInference.Contracts;
using EdgeInference.Testing;
using MQTTnet;
using MQTTnet.Formatter;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests.Fleet;

/// <summary>The fleet's own MQTT connection against a broker that misbehaves: a real MQTTnet server whose publish hook stalls.</summary>
public sealed class FleetBrokerLinkTests
{
    [Fact]
    public async Task APublishTheBrokerDoesNotAcknowledge_DropsTheConnection_AndTheCommandGoesOutOnTheNextOne()
    {
        await using var broker = await InProcessBroker.StartAsync();
        var fleetConnects = 0;
        var stalled = 0;
        broker.Server.ClientConnectedAsync += e =>
        {
            if (e.UserName is null or "fleet")
            {
                Interlocked.Increment(ref fleetConnects);
            }

            return Task.CompletedTask;
        };
        // The first command's PUBACK waits for the hook (MQTTnet acknowledges after dispatching): 4 s, past the fleet's 1 s limit.
        broker.Server.InterceptingPublishAsync += async e =>
        {
            if (e.ApplicationMessage.Topic.Contains("/commands/", StringComparison.Ordinal) && Interlocked.Increment(ref stalled) == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(4));
            }
        };

        await using var fleet = await FleetHost.StartWithoutBrokerAsync("--mqtt-url", broker.Url, "--mqtt-username", "fleet", "--broker-admin", "none", "--Fleet:PublishTimeout=00:00:01",
            "--Fleet:MqttSharedGroup="); // MQTTnet's server has no shared subscriptions
        await fleet.App.Services.GetRequiredService<EdgeInference.Fleet.Broker.FleetMqttClient>().WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        Assert.Equal(1, fleetConnects);

        using var device = new MqttClientFactory().CreateMqttClient();
        var received = new List<string>();
        device.ApplicationMessageReceivedAsync += e =>
        {
            lock (received)
            {
                received.Add(e.ApplicationMessage.Topic);
            }

            return Task.CompletedTask;
        };
        await device.ConnectAsync(DeviceConnections.Options(broker.Port, "pi-01", "x", MqttProtocolVersion.V500));
        await device.SubscribeAsync("edge/pi-01/commands/#", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        await device.PublishAsync(DeviceConnections.Status("pi-01"));
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetDevice("pi-01")?.Online == true, TimeSpan.FromSeconds(10), () => "the device online in the registry");

        using var response = await fleet.Http.PostAsJsonAsync(new Uri("devices/pi-01/commands", UriKind.Relative), new JsonObject { ["command"] = CommandNames.Reload });
        var id = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();

        // The stalled publish fails after 1 s, the connection is made again, and the command, its lease given back, goes out on it.
        await AgentHost.WaitUntilAsync(() => fleet.Store.GetCommand(id)?.State == CommandState.Sent, TimeSpan.FromSeconds(15), () => "the command marked sent");
        Assert.True(fleetConnects >= 2, $"the fleet connected {fleetConnects} times: it kept the connection whose broker stopped acknowledging");
        Assert.True(stalled >= 2, "the command was not published again");
        await AgentHost.WaitUntilAsync(() => { lock (received) { return received.Count > 0; } }, TimeSpan.FromSeconds(10), () => "the command at the device");
        Assert.Equal(1, fleet.Store.GetCommand(id)!.Sends);
    }
}
