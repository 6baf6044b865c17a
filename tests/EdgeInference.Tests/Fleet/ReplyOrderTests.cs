using EdgeInference.Contracts;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// Replies reach the fleet in any order (replicas split them, brokers redeliver): a command's state is that of the reply
/// the device sent last, and a reply delivered twice is kept once.
/// </summary>
public sealed class ReplyOrderTests
{
    private static readonly DateTimeOffset Sent = new(2026, 11, 30, 4, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AnOutcome_IsNotUndone_ByAProgressReportThatArrivesAfterIt()
    {
        var command = new CommandRecord { Id = "deploy-1", DeviceId = "pi-01", State = CommandState.Sent };
        Assert.True(DeviceRegistry.Apply(command, Reply(3, ReplyState.Succeeded, UpdateStep.Confirm, final: true), Sent.AddSeconds(4)));
        Assert.True(DeviceRegistry.Apply(command, Reply(1, ReplyState.Progress, UpdateStep.Download, final: false), Sent.AddSeconds(5)));

        Assert.True(command.Final); // before: the late progress report made the command open again, and it was sent again 15 s later
        Assert.Equal(CommandState.Succeeded, command.State);
        Assert.Equal([UpdateStep.Download, UpdateStep.Confirm], command.Replies.Select(r => r.Step));
        Assert.Equal(Sent.AddSeconds(5), command.LastActivity);
    }

    [Fact]
    public void ARepliesOrder_IsTheDevices_WhateverOrderTheyArriveIn()
    {
        var command = new CommandRecord { Id = "deploy-1", DeviceId = "pi-01" };
        foreach (var second in new[] { 2, 0, 3, 1 })
        {
            DeviceRegistry.Apply(command, Reply(second, second == 3 ? ReplyState.Failed : ReplyState.Progress, (UpdateStep)second, final: second == 3), Sent);
        }

        Assert.Equal([0, 1, 2, 3], command.Replies.Select(r => (int)(r.Timestamp - Sent).TotalSeconds));
        Assert.Equal((CommandState.Failed, true), (command.State, command.Final));
    }

    [Fact]
    public void AReplyDeliveredTwice_IsKeptOnce_AndWritesNothingTheSecondTime()
    {
        var command = new CommandRecord { Id = "deploy-1", DeviceId = "pi-01" };
        Assert.True(DeviceRegistry.Apply(command, Reply(1, ReplyState.Progress, UpdateStep.Verify, final: false), Sent));
        Assert.False(DeviceRegistry.Apply(command, Reply(1, ReplyState.Progress, UpdateStep.Verify, final: false), Sent.AddSeconds(1)));

        Assert.Single(command.Replies);
        Assert.Equal(Sent, command.LastActivity);
    }

    private static ReplyMessage Reply(int second, ReplyState state, UpdateStep step, bool final) => new()
    {
        Timestamp = Sent.AddSeconds(second), DeviceId = "pi-01", CommandId = "deploy-1", Command = CommandNames.Deploy, State = state, Step = step, Final = final,
    };
}
