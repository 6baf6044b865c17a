using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Registry;

/// <summary>
/// Bounds and shape checks for what devices publish, applied before anything reaches the store: a device's message is
/// untrusted input (JSON leaves a "non-nullable" list null when it says <c>null</c>). Each check returns what is wrong,
/// naming the field, or null.
/// </summary>
internal static class DevicePayloads
{
    /// <summary>The largest message taken from a device (a status with many models is a few KB).</summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>Models (or model versions) one message may list.</summary>
    public const int MaxModels = 64;

    /// <summary>Features one drift window may list.</summary>
    public const int MaxFeatures = 4096;

    /// <summary>Per-version statistics and drift summaries kept per device; the least recently seen go first.</summary>
    public const int MaxVersionsPerDevice = 64;

    private const int MaxName = 256;
    private const int MaxText = 8192;
    private const int MaxLines = 2000;

    public static string? Problem(StatusMessage status) =>
        !Enum.IsDefined(status.State) ? $"state {(int)status.State} is neither online nor offline"
        : Text(status.AgentVersion, "agent_version", MaxName) ?? Text(status.OnnxRuntimeVersion, "onnx_runtime_version", MaxName)
        ?? List(status.Models, "models", MaxModels, (m, at) => Name(m.Model, $"{at}.model") ?? Text(m.PackageVersion, $"{at}.package_version", MaxName)
            ?? Text(m.State, $"{at}.state", MaxName) ?? Text(m.ExecutionProvider, $"{at}.execution_provider", MaxName) ?? Text(m.Error, $"{at}.error", MaxText), nullable: true)
        ?? List(status.Updates, "updates", MaxModels, (u, at) => Name(u.Model, $"{at}.model") ?? Text(u.Version, $"{at}.version", MaxName)
            ?? Text(u.CommandId, $"{at}.command_id", MaxName) ?? Defined(u.State, $"{at}.state") ?? Defined(u.Step, $"{at}.step") ?? Text(u.Message, $"{at}.message", MaxText), nullable: true);

    public static string? Problem(TelemetryMessage telemetry) =>
        telemetry.Process is null ? "process is missing"
        : telemetry.Device is null ? "device is missing"
        : telemetry.Outbox is null ? "outbox is missing"
        : double.IsFinite(telemetry.WindowSeconds) && telemetry.WindowSeconds >= 0 ? List(telemetry.Models, "models", MaxModels, (m, at) =>
            Name(m.Model, $"{at}.model") ?? Text(m.PackageVersion, $"{at}.package_version", MaxName) ?? Text(m.ExecutionProvider, $"{at}.execution_provider", MaxName)
            ?? (m.Requests < 0 || m.Errors < 0 || m.Errors > m.Requests ? $"{at} counts {m.Errors} errors in {m.Requests} requests" : null))
        : $"window_seconds {telemetry.WindowSeconds} is not a duration";

    public static string? Problem(DriftMessage drift) =>
        Name(drift.Model, "model") ?? Text(drift.PackageVersion, "package_version", MaxName) ?? Text(drift.ProfileError, "profile_error", MaxText)
        ?? (drift.Thresholds is null ? "thresholds is missing" : null)
        ?? (drift.Requests < 0 ? $"requests {drift.Requests} is negative" : null)
        ?? List(drift.Features, "features", MaxFeatures, (f, at) => Text(f.Name, $"{at}.name", MaxName) ?? Text(f.Tensor, $"{at}.tensor", MaxName));

    public static string? Problem(ReplyMessage reply) =>
        Name(reply.CommandId, "command_id") ?? Defined(reply.State, "state") ?? Text(reply.Command, "command", MaxName) ?? Defined(reply.Step, "step")
        ?? Text(reply.Reason, "reason", MaxName) ?? Text(reply.Message, "message", MaxText) ?? Text(reply.Model, "model", MaxName)
        ?? Text(reply.Version, "version", MaxName) ?? Text(reply.ServingVersion, "serving_version", MaxName)
        ?? List(reply.Lines, "lines", MaxLines, (line, at) => line.Length > MaxText ? $"{at} is over {MaxText} characters" : null, nullable: true);

    private static string? Name(string? value, string field) =>
        string.IsNullOrEmpty(value) ? $"{field} is missing" : Text(value, field, MaxName);

    private static string? Text(string? value, string field, int max) =>
        value is { Length: var length } && length > max ? $"{field} is {length} characters, over {max}" : null;

    private static string? List<T>(List<T>? items, string field, int max, Func<T, string, string?> check, bool nullable = false)
        where T : class
    {
        if (items is null)
        {
            return nullable ? null : $"{field} is missing";
        }

        if (items.Count > max)
        {
            return $"{field} has {items.Count} entries, over {max}";
        }

        for (var i = 0; i < items.Count; i++)
        {
            if ((items[i] is null ? $"{field}[{i}] is null" : check(items[i], $"{field}[{i}]")) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>JSON also takes a number for an enum: one the contract does not define is refused.</summary>
    private static string? Defined<T>(T? value, string field)
        where T : struct, Enum => value is { } set && !Enum.IsDefined(set) ? $"{field} is not one of the contract's values" : null;

    private static string? Defined<T>(T value, string field)
        where T : struct, Enum => Enum.IsDefined(value) ? null : $"{field} is not one of the contract's values";
}
