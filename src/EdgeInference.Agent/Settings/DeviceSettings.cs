using System.Text.Json;
using EdgeInference.Agent.Diagnostics;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Models;
using EdgeInference.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Settings;

/// <summary>
/// The settings the fleet has set on this device with <c>configure</c> (telemetry and drift intervals, input
/// sampling, the execution-provider preference), over the agent's own configuration. They are kept in
/// <c>&lt;data&gt;/configuration.json</c> (replaced atomically), so they survive restarts, and applied live:
/// the loops retime themselves on <see cref="Changed"/>, and a new provider preference (handed to the
/// <see cref="ExecutionProviderSelector"/>) reloads the models.
/// </summary>
public sealed class DeviceSettings
{
    public const string FileName = "configuration.json";

    private readonly string _path;
    private readonly object _gate = new();
    private DesiredConfiguration _current = new();

    public DeviceSettings(string dataDirectory, ILogger logger)
    {
        _path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(_path))
        {
            try
            {
                var saved = JsonSerializer.Deserialize(File.ReadAllBytes(_path), ContractJsonContext.Default.DesiredConfiguration) ?? new();
                if (Problem(saved) is { } problem)
                {
                    throw new JsonException(problem);
                }

                _current = saved;
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                AgentLog.SettingsIgnored(logger, _path, ex.Message);
            }
        }
    }

    /// <summary>Raised after a change is saved, with the settings now in force.</summary>
    public event Action<DesiredConfiguration>? Changed;

    /// <summary>Everything the fleet has set so far (fields it never set are null).</summary>
    public DesiredConfiguration Current => Volatile.Read(ref _current);

    /// <summary>Counts applied changes (the status is published again when it moves).</summary>
    public int Revision { get; private set; }

    public TimeSpan TelemetryInterval(TimeSpan configured) => Current.TelemetryIntervalSeconds is { } s ? TimeSpan.FromSeconds(s) : configured;

    public TimeSpan DriftInterval(TimeSpan configured) => Current.DriftIntervalSeconds is { } s ? TimeSpan.FromSeconds(s) : configured;

    public double InputSampleRate(double configured) => Current.InputSampleRate ?? configured;

    /// <summary>What is wrong with <paramref name="change"/>, naming the field, or null when it can be applied.</summary>
    public static string? Problem(DesiredConfiguration change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var unknown = change.ExecutionProviders?.FirstOrDefault(p => !ExecutionProviderSelector.DefaultPreference.Contains(p, StringComparer.OrdinalIgnoreCase));
        return change.Problem()
            ?? (unknown is null ? null : $"execution_providers has unknown provider '{unknown}' (known: {string.Join(", ", ExecutionProviderSelector.DefaultPreference)})");
    }

    /// <summary>
    /// Applies the fields <paramref name="change"/> sets (the others keep their value), saves, then raises
    /// <see cref="Changed"/>. Throws <see cref="ArgumentException"/> naming the field when a value is out of range.
    /// </summary>
    public DesiredConfiguration Apply(DesiredConfiguration change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (Problem(change) is { } problem)
        {
            throw new ArgumentException(problem, nameof(change));
        }

        DesiredConfiguration merged;
        lock (_gate)
        {
            merged = change.Over(Current);
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            DurableFiles.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(merged, ContractJsonContext.Default.DesiredConfiguration));
            Volatile.Write(ref _current, merged);
            Revision++;
        }

        Changed?.Invoke(merged);
        return merged;
    }
}
