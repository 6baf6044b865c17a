using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Drift;

/// <summary>
/// The drift sketches of one model version: every request's inputs and outputs update the current window
/// (<see cref="Observe"/>, on the hot path); <see cref="CloseWindow"/> compares it with the reference and starts the next.
/// Without a profile, each feature learns its reference from its first window of enough values.
/// </summary>
public sealed class ModelDriftMonitor
{
    private readonly Lock _gate = new();
    private readonly DriftLayout[] _layouts;
    private readonly FeatureWindow[][] _windows;
    private readonly DriftOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random = new(17);
    private long _requests;
    private DateTimeOffset _windowStart;

    public ModelDriftMonitor(ModelVersion model, DriftOptions options, TimeProvider time, DriftProfile? profile = null, string? profileError = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        Model = model;
        _options = options;
        _time = time;
        _windowStart = time.GetUtcNow();
        _layouts = DriftLayout.Of(model, options.MaxElementFeatures).ToArray();
        _windows = Array.ConvertAll(_layouts, l => l.Features.Select(_ => new FeatureWindow(options.ReservoirSize)).ToArray());
        ProfileError = profileError;
        if (profile is not null)
        {
            try
            {
                ApplyProfile(profile);
                HasProfile = true;
            }
            catch (FormatException ex)
            {
                ProfileError = $"{model.ModelName}/{model.VersionText}/profile.json: {ex.Message}";
                foreach (var window in _windows.SelectMany(w => w))
                {
                    window.Reset(null);
                }
            }
        }
    }

    public ModelVersion Model { get; }

    /// <summary>Why the version's profile.json is not used, when it exists but is unusable.</summary>
    public string? ProfileError { get; }

    public bool HasProfile { get; }

    /// <summary>The features tracked, inputs first.</summary>
    public IEnumerable<DriftFeature> Features => _layouts.SelectMany(l => l.Features);

    /// <summary>The last closed window, for /metrics.</summary>
    public DriftMessage? LastWindow { get; private set; }

    /// <summary>Requests observed in the current window.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Updates the current window with one request (inputs and outputs by the model's order).</summary>
    public void Observe(ReadOnlySpan<TensorBuffer?> inputs, ReadOnlySpan<TensorBuffer?> outputs)
    {
        lock (_gate)
        {
            _requests++;
            for (var l = 0; l < _layouts.Length; l++)
            {
                var layout = _layouts[l];
                var windows = _windows[l];
                if (windows.Length == 0)
                {
                    continue;
                }

                var index = layout.Spec.Index;
                var tensors = layout.IsOutput ? outputs : inputs;
                var tensor = index < tensors.Length ? tensors[index] : null;
                if (tensor is null)
                {
                    foreach (var window in windows)
                    {
                        window.AddMissing();
                    }

                    continue;
                }

                var samples = layout.SamplesIn(tensor);
                var elements = tensor.ElementCount;
                if (samples <= 0 || elements <= 0 || elements % samples != 0)
                {
                    continue;
                }

                var perSample = (int)(elements / samples);
                if (layout.IsElementwise)
                {
                    ObserveElements(tensor, windows, (int)samples, perSample);
                }
                else
                {
                    ObserveSummaries(tensor, windows, (int)samples, perSample);
                }
            }
        }
    }

    /// <summary>Closes the current window: its statistics against the reference, then a fresh window.</summary>
    public DriftMessage CloseWindow(string deviceId)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var message = new DriftMessage
            {
                Timestamp = now,
                DeviceId = deviceId,
                Model = Model.ModelName,
                Version = Model.Version,
                WindowStart = _windowStart,
                WindowEnd = now,
                Requests = _requests,
                ProfileError = ProfileError,
                Thresholds = new DriftThresholds { Psi = _options.PsiThreshold, Ks = _options.KsThreshold, Js = _options.JsThreshold, MinSamples = _options.MinSamples },
            };

            message.Reference = HasProfile ? "profile" : _windows.All(w => w.All(f => f.Reference is not null)) ? "first_window" : "none";
            var learning = false;
            var judged = false;
            for (var l = 0; l < _layouts.Length; l++)
            {
                for (var f = 0; f < _windows[l].Length; f++)
                {
                    var feature = _layouts[l].Features[f];
                    var window = _windows[l][f];
                    var result = Describe(feature, window);
                    message.Features.Add(result);
                    if (window.Reference is { } reference)
                    {
                        judged |= window.Count >= _options.MinSamples;
                        message.Drift |= result.Drift;
                        window.Reset(reference);
                    }
                    else if (window.Count >= _options.MinSamples)
                    {
                        window.Reset(Learn(window, _requests));
                        learning = true;
                    }
                    else
                    {
                        learning = true; // too few values yet: keep sampling into the next window
                    }
                }
            }

            message.State = learning ? "learning" : judged ? "scored" : "insufficient";
            _requests = 0;
            _windowStart = now;
            LastWindow = message;
            return message;
        }
    }

    /// <summary>A profile of everything observed so far (each feature's reference learned from all its values).</summary>
    public DriftProfile BuildProfile()
    {
        lock (_gate)
        {
            var profile = new DriftProfile { Model = Model.ModelName, Version = Model.Version, CreatedAt = _time.GetUtcNow(), Requests = _requests };
            for (var l = 0; l < _layouts.Length; l++)
            {
                for (var f = 0; f < _windows[l].Length; f++)
                {
                    var feature = _layouts[l].Features[f];
                    var window = _windows[l][f];
                    if (window.Count == 0)
                    {
                        throw new InvalidOperationException($"the reference inputs gave no finite value for feature '{feature.Name}'");
                    }

                    profile.Features.Add(Learn(window, _requests).ToProfile(feature));
                }
            }

            return profile;
        }
    }

    private void ObserveElements(TensorBuffer tensor, FeatureWindow[] windows, int samples, int perSample)
    {
        if (perSample != windows.Length)
        {
            return;
        }

        if (tensor.DataType == TensorDataType.Fp32)
        {
            var values = MemoryMarshal.Cast<byte, float>(tensor.Span);
            for (int s = 0, offset = 0; s < samples; s++, offset += perSample)
            {
                for (var f = 0; f < perSample; f++)
                {
                    windows[f].Add(values[offset + f], _random);
                }
            }

            return;
        }

        var span = tensor.Span;
        for (int s = 0, offset = 0; s < samples; s++, offset += perSample)
        {
            for (var f = 0; f < perSample; f++)
            {
                windows[f].Add(TensorValues.Get(span, tensor.DataType, offset + f), _random);
            }
        }
    }

    /// <summary>Big tensors: each sample adds its mean (feature 0) and standard deviation (feature 1) over its finite elements.</summary>
    private void ObserveSummaries(TensorBuffer tensor, FeatureWindow[] windows, int samples, int perSample)
    {
        var span = tensor.Span;
        for (int s = 0, offset = 0; s < samples; s++, offset += perSample)
        {
            double sum, sumOfSquares;
            long finite = perSample;
            if (tensor.DataType == TensorDataType.Fp32)
            {
                var values = MemoryMarshal.Cast<byte, float>(span).Slice(offset, perSample);
                sum = TensorPrimitives.Sum(values);
                sumOfSquares = TensorPrimitives.SumOfSquares(values);
                if (!double.IsFinite(sum) || !double.IsFinite(sumOfSquares))
                {
                    (sum, sumOfSquares, finite) = SumFinite(span, tensor.DataType, offset, perSample);
                }
            }
            else
            {
                (sum, sumOfSquares, finite) = SumFinite(span, tensor.DataType, offset, perSample);
            }

            var nan = perSample - finite;
            if (nan > 0)
            {
                windows[0].AddNan(nan);
                windows[1].AddNan(nan);
            }

            if (finite > 0)
            {
                var mean = sum / finite;
                windows[0].Add(mean, _random);
                windows[1].Add(Math.Sqrt(Math.Max(0, (sumOfSquares / finite) - (mean * mean))), _random);
            }
        }
    }

    private static (double Sum, double SumOfSquares, long Finite) SumFinite(ReadOnlySpan<byte> span, TensorDataType type, int offset, int count)
    {
        double sum = 0, sumOfSquares = 0;
        long finite = 0;
        for (var i = offset; i < offset + count; i++)
        {
            var value = TensorValues.Get(span, type, i);
            if (double.IsFinite(value))
            {
                sum += value;
                sumOfSquares += value * value;
                finite++;
            }
        }

        return (sum, sumOfSquares, finite);
    }

    private FeatureReference Learn(FeatureWindow window, long requests) =>
        FeatureReference.Learn(window.Sample, _options.Bins, window.Count, window.Mean, window.Std, window.Min, window.Max,
            (double)window.NanCount / Math.Max(1, window.Count + window.NanCount), (double)window.MissingCount / Math.Max(1, requests));

    private FeatureDrift Describe(DriftFeature feature, FeatureWindow window)
    {
        var result = new FeatureDrift
        {
            Name = feature.Name,
            Tensor = feature.Tensor,
            Kind = feature.Kind,
            Statistic = feature.StatisticName,
            Count = window.Count,
            NanCount = window.NanCount,
            MissingCount = window.MissingCount,
            OutOfRangeCount = window.OutOfRangeCount,
        };
        if (window.Count > 0)
        {
            result.Mean = window.Mean;
            result.Std = window.Std;
            result.Min = window.Min;
            result.Max = window.Max;
        }

        if (window.Reference is { } reference && window.Count > 0)
        {
            result.Psi = DriftMath.Psi(reference.Histogram, reference.Count, window.Bins);
            result.Ks = DriftMath.Ks(reference.Histogram, window.Bins);
            result.Js = DriftMath.JsDistance(reference.Histogram, window.Bins);
            result.Drift = window.Count >= _options.MinSamples
                && (result.Psi > _options.PsiThreshold || result.Ks > _options.KsThreshold || result.Js > _options.JsThreshold);
        }

        return result;
    }

    private void ApplyProfile(DriftProfile profile)
    {
        var byName = new Dictionary<string, ProfileFeature>(StringComparer.Ordinal);
        foreach (var feature in profile.Features ?? [])
        {
            if (feature is null || string.IsNullOrEmpty(feature.Name) || !byName.TryAdd(feature.Name, feature))
            {
                throw new FormatException($"a feature has no name, or its name is used twice ('{feature?.Name}')");
            }
        }

        for (var l = 0; l < _layouts.Length; l++)
        {
            for (var f = 0; f < _windows[l].Length; f++)
            {
                var feature = _layouts[l].Features[f];
                if (!byName.TryGetValue(feature.Name, out var reference))
                {
                    throw new FormatException($"no feature '{feature.Name}' ({feature.Kind} '{feature.Tensor}'); rebuild it with 'edge-agent profile'");
                }

                _windows[l][f].Reset(FeatureReference.FromProfile(reference));
            }
        }
    }
}
