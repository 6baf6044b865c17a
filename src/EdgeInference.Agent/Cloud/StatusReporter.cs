using System.Text;
using System.Text.Json;
using EdgeInference.Agent.Commands;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.Sensors;
using EdgeInference.Agent.Settings;
using EdgeInference.Agent.Updates;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Models;

namespace EdgeInference.Agent.Cloud;

/// <summary>Builds the retained <c>status</c> message: the agent, its models with their versions and providers, and the hardware.</summary>
public sealed class StatusReporter
{
    private readonly ModelRepository _models;
    private readonly AgentInfo _info;
    private readonly OnnxRuntimeEnvironment _onnxRuntime;
    private readonly HardwareProbe _hardware;
    private readonly TimeProvider _time;
    private readonly InstalledPackages? _installed;
    private readonly CommandReporter? _commands;
    private readonly DeviceSettings? _settings;
    private readonly DeviceTrust? _trust;
    private readonly SensorHub? _sensors;

    public StatusReporter(
        string deviceId, ModelRepository models, AgentInfo info, OnnxRuntimeEnvironment onnxRuntime, HardwareProbe hardware, TimeProvider time,
        InstalledPackages? installed = null, CommandReporter? commands = null, DeviceSettings? settings = null, DeviceTrust? trust = null,
        SensorHub? sensors = null)
    {
        _sensors = sensors;
        _trust = trust;
        _settings = settings;
        _installed = installed;
        _commands = commands;
        DeviceId = deviceId;
        _models = models;
        _info = info;
        _onnxRuntime = onnxRuntime;
        _hardware = hardware;
        _time = time;
    }

    public string DeviceId { get; }

    public StatusMessage Build(bool online)
    {
        var now = _time.GetUtcNow();
        var versions = _models.Models.SelectMany(m => m.Versions).ToList();
        // ONNX Runtime is only asked once models have loaded it: an agent without models never loads it.
        var providers = versions.Count > 0 ? _onnxRuntime.AvailableProviders() : [];
        return new StatusMessage
        {
            Timestamp = now,
            DeviceId = DeviceId,
            State = online ? ConnectionState.Online : ConnectionState.Offline,
            AgentVersion = _info.Version,
            OnnxRuntimeVersion = versions.Count > 0 ? _info.OnnxRuntimeVersion : null,
            StartedAt = _info.StartedAt,
            UptimeSeconds = Math.Round((now - _info.StartedAt).TotalSeconds, 3),
            Models = versions.Select(v => new ModelStatus
            {
                Model = v.ModelName,
                Version = v.Version,
                PackageVersion = _installed?.VersionOf(v.ModelName, v.Version),
                State = v.State.ToString().ToUpperInvariant(),
                ExecutionProvider = v.ExecutionProvider,
                ExecutionProviderNotes = v.ExecutionProviderNotes.Count > 0 ? [.. v.ExecutionProviderNotes] : null,
                Threading = v.State == ModelVersionState.Ready ? v.Threading : null,
                Error = v.Error,
            }).ToList(),
            Hardware = _hardware.Describe(providers),
            Updates = _commands is { Updates: { Count: > 0 } updates } ? updates.ToList() : null,
            Configuration = _settings?.Current,
            TrustVersion = _trust?.Version,
            Sensors = _sensors?.Describe(readings: false),
        };
    }

    /// <summary>What the status says of the models (versions, states, providers, threading, errors) and sensors (states, errors): a change means it is published again.</summary>
    public string ModelsKey()
    {
        var key = new StringBuilder();
        foreach (var v in _models.Models.SelectMany(m => m.Versions))
        {
            key.Append('|').Append(v.ModelName).Append('/').Append(v.Version).Append('/').Append(v.State)
                .Append('/').Append(v.ExecutionProvider).Append('/').Append(v.Threading).Append('/').Append(v.Error);
        }

        key.Append('|').Append(_commands?.Changes).Append('|').Append(_settings?.Revision).Append('|').Append(_trust?.Version);
        key.Append(_sensors?.StatusKey());
        return key.ToString();
    }

    public static byte[] Serialize(StatusMessage status) => JsonSerializer.SerializeToUtf8Bytes(status, ContractJsonContext.Default.StatusMessage);
}
