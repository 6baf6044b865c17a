using System.Collections.Concurrent;
using System.Text.Json;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Drift;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Drift;

/// <summary>The drift sketches of every served model version, created on a version's first request with its profile.json, if any.</summary>
public sealed class DriftMonitor : IPredictionObserver
{
    public const string ProfileFileName = "profile.json";

    private readonly ConcurrentDictionary<ModelVersion, ModelDriftMonitor> _models = new();
    private readonly DriftOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DriftMonitor> _logger;
    private readonly Func<ModelVersion, ModelDriftMonitor> _create;

    public DriftMonitor(IOptions<DriftOptions> options, TimeProvider time, ILogger<DriftMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
        _create = Create;
    }

    public DriftOptions Options => _options;

    /// <summary>The versions observed, with their current windows and last closed ones.</summary>
    public IEnumerable<ModelDriftMonitor> Models => _models.Values;

    /// <summary>Adds one served request to its version's window (the hot path).</summary>
    public void Observe(InferenceRequest request, InferenceResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (_options.Enabled)
        {
            _models.GetOrAdd(response.Model, _create).Observe(request.Inputs, response.Outputs);
        }
    }

    /// <summary>Closes the window of every version that served requests in it, and forgets versions no longer served.</summary>
    public IReadOnlyList<DriftMessage> CloseWindows(string deviceId)
    {
        var closed = new List<DriftMessage>();
        foreach (var (model, monitor) in _models)
        {
            if (monitor.Requests > 0)
            {
                var window = monitor.CloseWindow(deviceId);
                closed.Add(window);
                if (window.Drift)
                {
                    DriftLog.DriftDetected(_logger, model.ModelName, model.VersionText,
                        string.Join(", ", window.Features.Where(f => f.Drift).Select(f => FormattableString.Invariant($"{f.Name} (PSI {f.Psi:0.###}, KS {f.Ks:0.###}, JS {f.Js:0.###})"))));
                }
            }

            if (model.State is not ModelVersionState.Ready)
            {
                _models.TryRemove(model, out _);
            }
        }

        return closed;
    }

    /// <summary>Reads a version's profile.json; null when there is none. Throws <see cref="FormatException"/> naming the file and the problem.</summary>
    public static DriftProfile? ReadProfile(string? versionDirectory)
    {
        if (versionDirectory is null)
        {
            return null;
        }

        var path = Path.Combine(versionDirectory, ProfileFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, ContractJsonContext.Default.DriftProfile)
                ?? throw new FormatException($"{path}: is null, not a profile");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: not a valid profile: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new FormatException($"{path}: cannot be read: {ex.Message}", ex);
        }
    }

    private ModelDriftMonitor Create(ModelVersion model)
    {
        DriftProfile? profile = null;
        string? error = null;
        try
        {
            profile = ReadProfile(model.Directory);
        }
        catch (FormatException ex)
        {
            error = ex.Message;
        }

        var monitor = new ModelDriftMonitor(model, _options, _time, profile, error);
        if (monitor.ProfileError is { } problem)
        {
            DriftLog.ProfileUnusable(_logger, model.ModelName, model.VersionText, problem);
        }

        return monitor;
    }
}
