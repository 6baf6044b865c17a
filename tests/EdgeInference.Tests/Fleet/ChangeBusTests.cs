using EdgeInference.Fleet.Dashboard;

namespace EdgeInference.Tests.Fleet;

/// <summary>The change bus's notifications: within PostgreSQL's payload limit, read back whole, and others' ignored.</summary>
public sealed class ChangeBusTests
{
    [Fact]
    public void ManyChanges_AreSplitIntoNotificationsUnderThePayloadLimit_AndReadBackInOrder()
    {
        var changes = Enumerable.Range(0, 1000).Select(i => new FleetChange(i % 3 == 0 ? "rollout" : "device", $"device-{i:D4}-{new string('x', 40)}")).ToList();

        var payloads = PostgresChangeBus.Payloads(changes);

        Assert.True(payloads.Count > 1, "a thousand changes do not fit one notification");
        Assert.All(payloads, p => Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(p), 1, 7500));
        Assert.Equal(changes, payloads.SelectMany(PostgresChangeBus.Parse));
    }

    [Fact]
    public void AChangeTooLongForAnyNotification_IsLeftOut_AndTheRestStillGo()
    {
        var payloads = PostgresChangeBus.Payloads([new("device", "a"), new("device", new string('é', 5000)), new("rollout", "b")]);

        Assert.Equal([new FleetChange("device", "a"), new FleetChange("rollout", "b")], payloads.SelectMany(PostgresChangeBus.Parse));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("{\"kind\":\"device\",\"id\":\"a\"}")]
    [InlineData("[{\"kind\":\"device\"}]")]
    [InlineData("[null]")]
    [InlineData("[1,2]")]
    public void ANotificationThatIsNotOurs_CarriesNoChange(string payload)
    {
        Assert.Empty(PostgresChangeBus.Parse(payload));
    }
}
