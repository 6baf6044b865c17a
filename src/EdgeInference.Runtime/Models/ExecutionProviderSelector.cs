using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// Picks the first execution provider of a preference list that this ONNX Runtime build offers and that
/// appends to the session without error; CPU is always the last resort.
/// </summary>
public sealed class ExecutionProviderSelector
{
    /// <summary>NPUs first, then GPUs, then the optimized CPU kernels.</summary>
    public static readonly IReadOnlyList<string> DefaultPreference = ["QNN", "NNAPI", "XNNPACK", "CUDA", "TensorRT", "OpenVINO", "CPU"];

    private readonly Lazy<HashSet<string>> _available;
    private IReadOnlyList<string>? _devicePreference;

    /// <summary>Asks for the providers only when the first session is made, so ONNX Runtime loads only when needed.</summary>
    public ExecutionProviderSelector(Func<IEnumerable<string>> availableProviders)
    {
        ArgumentNullException.ThrowIfNull(availableProviders);
        _available = new Lazy<HashSet<string>>(() => new HashSet<string>(availableProviders(), StringComparer.Ordinal));
    }

    /// <summary>
    /// The device's preference (set by the fleet), used for models whose config names none; null: <see cref="DefaultPreference"/>.
    /// Changing it changes <see cref="PreferenceKey"/>, so the repository reloads its models with it.
    /// </summary>
    public IReadOnlyList<string>? DevicePreference
    {
        get => Volatile.Read(ref _devicePreference);
        set => Volatile.Write(ref _devicePreference, value is null ? null : [.. value]);
    }

    /// <summary>Part of every loaded version's fingerprint: which preference new sessions get.</summary>
    public string PreferenceKey => string.Join(',', DevicePreference ?? DefaultPreference);

    /// <summary>Appends the chosen provider to <paramref name="options"/> and says which it was and why.</summary>
    public ExecutionProviderChoice Apply(SessionOptions options, IEnumerable<string>? preference)
    {
        ArgumentNullException.ThrowIfNull(options);
        var notes = new List<string>();
        foreach (var name in preference ?? DevicePreference ?? DefaultPreference)
        {
            var canonical = DefaultPreference.FirstOrDefault(p => p.Equals(name, StringComparison.OrdinalIgnoreCase)) ?? name;
            if (canonical == "CPU")
            {
                return new ExecutionProviderChoice("CPU", notes);
            }

            var ortName = OrtName(canonical);
            if (!_available.Value.Contains(ortName))
            {
                notes.Add($"{canonical}: {ortName} is not in this ONNX Runtime build (it has {string.Join(", ", _available.Value)})");
                continue;
            }

            try
            {
                Append(options, canonical);
                return new ExecutionProviderChoice(canonical, notes);
            }
            catch (OnnxRuntimeException ex)
            {
                // A provider in the build whose library cannot load (no CUDA here): the loader names what is missing.
                var why = ProviderLibraryProbe.Diagnose(canonical);
                notes.Add($"{canonical}: appending it failed: {ex.Message}{(why is null ? "" : $" ({why})")}");
            }
        }

        notes.Add("CPU: used as the last resort");
        return new ExecutionProviderChoice("CPU", notes);
    }

    private static string OrtName(string provider) => provider switch
    {
        "QNN" => "QNNExecutionProvider",
        "NNAPI" => "NnapiExecutionProvider",
        "XNNPACK" => "XnnpackExecutionProvider",
        "CUDA" => "CUDAExecutionProvider",
        "TensorRT" => "TensorrtExecutionProvider",
        "OpenVINO" => "OpenVINOExecutionProvider",
        _ => provider + "ExecutionProvider",
    };

    private static void Append(SessionOptions options, string provider)
    {
        switch (provider)
        {
            case "CUDA":
                options.AppendExecutionProvider_CUDA(0);
                break;
            case "TensorRT":
                options.AppendExecutionProvider_Tensorrt(0);
                break;
            case "NNAPI":
                options.AppendExecutionProvider_Nnapi();
                break;
            case "OpenVINO":
                options.AppendExecutionProvider_OpenVINO();
                break;
            default:
                options.AppendExecutionProvider(provider, []);
                break;
        }
    }
}
