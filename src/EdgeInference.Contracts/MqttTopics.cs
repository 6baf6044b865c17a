namespace EdgeInference.Contracts;

/// <summary>The MQTT topic names of the contract (docs/mqtt/asyncapi.yaml).</summary>
public static class MqttTopics
{
    public const string Root = "edge";

    public static string Status(string deviceId) => $"{Root}/{deviceId}/status";

    public static string Telemetry(string deviceId) => $"{Root}/{deviceId}/telemetry";

    public static string Drift(string deviceId) => $"{Root}/{deviceId}/drift";

    public static string Predictions(string deviceId) => $"{Root}/{deviceId}/predictions";

    /// <summary>The filter the agent subscribes to for commands.</summary>
    public static string Commands(string deviceId) => $"{Root}/{deviceId}/commands/#";

    public static string Replies(string deviceId, string command) => $"{Root}/{deviceId}/replies/{command}";

    /// <summary>Whether <paramref name="deviceId"/> can be one level of a topic: not empty, no wildcards, separators or control characters.</summary>
    public static bool IsValidDeviceId(string? deviceId) =>
        !string.IsNullOrEmpty(deviceId) && deviceId.Length <= 128 && !deviceId.Any(c => c is '/' or '+' or '#' || char.IsControl(c) || char.IsWhiteSpace(c));
}
