using System.Text.Json;

namespace EdgeInference.Contracts;

/// <summary>Helpers over the contract's states: wire names, and the rules that belong to the states themselves.</summary>
public static class ContractStates
{
    /// <summary>The command state a reply moves its command to.</summary>
    public static CommandState ToCommandState(this ReplyState state) => state switch
    {
        ReplyState.Accepted => CommandState.Accepted,
        ReplyState.Progress => CommandState.Progress,
        ReplyState.Succeeded => CommandState.Succeeded,
        ReplyState.Failed => CommandState.Failed,
        ReplyState.Rejected => CommandState.Rejected,
        ReplyState.RolledBack => CommandState.RolledBack,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Whether the rollout engine still passes over a rollout in this state.</summary>
    public static bool IsActive(this RolloutState state) =>
        state is RolloutState.Running or RolloutState.WaitingApproval or RolloutState.Paused or RolloutState.RollingBack or RolloutState.Completed;

    /// <summary>Whether the device's outcome is known: probation is not, since the device may still roll back by itself.</summary>
    public static bool IsSettled(this InstallState state) => state is InstallState.Installed or InstallState.Failed or InstallState.Offline or InstallState.RolledBack;

    /// <summary>Whether the device serves the version now (its telemetry and drift count for the gates).</summary>
    public static bool IsServing(this InstallState state) => state is InstallState.Installed or InstallState.Probation;

    /// <summary>The state's name on the wire (<c>rolled_back</c>), for keys and messages.</summary>
    public static string WireName(this InstallState state) => Unquote(JsonSerializer.Serialize(state, ContractJsonContext.Default.InstallState));

    /// <inheritdoc cref="WireName(InstallState)"/>
    public static string WireName(this RolloutState state) => Unquote(JsonSerializer.Serialize(state, ContractJsonContext.Default.RolloutState));

    /// <inheritdoc cref="WireName(InstallState)"/>
    public static string WireName(this UpdateStep step) => Unquote(JsonSerializer.Serialize(step, ContractJsonContext.Default.UpdateStep));

    /// <inheritdoc cref="WireName(InstallState)"/>
    public static string WireName(this ConnectionState state) => Unquote(JsonSerializer.Serialize(state, ContractJsonContext.Default.ConnectionState));

    /// <inheritdoc cref="WireName(InstallState)"/>
    public static string WireName(this CommandState state) => Unquote(JsonSerializer.Serialize(state, ContractJsonContext.Default.CommandState));

    /// <inheritdoc cref="WireName(InstallState)"/>
    public static string WireName(this ReplyState state) => Unquote(JsonSerializer.Serialize(state, ContractJsonContext.Default.ReplyState));

    /// <inheritdoc cref="WireName(InstallState)"/>
    public static string WireName(this SensorState state) => Unquote(JsonSerializer.Serialize(state, ContractJsonContext.Default.SensorState));

    private static string Unquote(string json) => json.Trim('"');
}
