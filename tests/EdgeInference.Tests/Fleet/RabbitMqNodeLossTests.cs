using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// Losing a RabbitMQ node mid-rollout, on a cluster of its own (the node comes back at the end, but a cluster that has
/// lost one is not handed to other tests): the rollout completes and no reply a device had acknowledged is lost.
/// </summary>
[Collection(ScaleTests.Alone)]
public sealed class RabbitMqNodeLossTests : IClassFixture<RabbitMqFixture>
{
    private readonly RabbitMqFixture _fixture;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public RabbitMqNodeLossTests(RabbitMqFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    private RabbitMqCluster Rabbit => _fixture.Cluster;

    [Fact]
    public async Task OnRabbitMq_ReplicasShareDeviceEventsThroughAQuorumQueue_AndARolloutSurvivesKillingANode_WithEveryReplyStored()
    {
        await using var bed = await RabbitMqBed.StartAsync(_fixture, devices: 150, maxPerMinute: 600);

        // Mid-rollout, kill -9 the node that leads the quorum queue (and the devices, replicas and consumers on it).
        await bed.WaitForInstallsAsync(bed.Devices / 3);
        var leader = (await Rabbit.GetAsync($"queues/%2F/{Uri.EscapeDataString("edge-fleet-events")}"))!["leader"]!.GetValue<string>();
        var killed = Rabbit.Nodes.ToList().FindIndex(n => n.Name == leader);
        Assert.True(killed >= 0, $"the queue's leader {leader} is not a node of the cluster");
        var rss = Enumerable.Range(0, Rabbit.Nodes.Count).Select(Rabbit.ResidentMebibytes).ToList();
        Rabbit.Kill(killed);
        var killedAt = bed.Simulator.Counts.Installs.Count;
        try
        {
            await bed.AssertCompletedWithEveryReplyStoredAsync();
        }
        finally
        {
            await Rabbit.RestartAsync(killed);
        }

        _output.WriteLine($"{bed.Devices} devices on 3 RabbitMQ nodes; node {Rabbit.Nodes[killed].Name} (the queue's leader) killed after {killedAt} installs; rollout completed");
        _output.WriteLine(bed.Summary());
        _output.WriteLine($"RSS before the kill (MiB): {string.Join(", ", rss.Select(m => m.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }
}
