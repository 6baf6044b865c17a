using System.Globalization;
using System.Text.Json;
using EdgeInference.Agent.Protocols;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Drift;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Drift;

/// <summary>
/// <c>edge-agent profile --models DIR --model NAME [--version N] --inputs DIR [--out FILE] [--bins N] [--max-element-features N]</c>:
/// runs reference inputs through a model version and writes its drift profile (default: profile.json in the version's directory).
/// Inputs, in name order: <c>*.json</c> files are Open Inference Protocol v2 infer requests; <c>*.npy</c> files are the one input
/// of a single-input model; each sub-folder is one request of <c>&lt;input name&gt;.npy</c> files.
/// </summary>
public static class ProfileCommand
{
    public const string Usage = "usage: edge-agent profile --models DIR --model NAME [--version N] --inputs DIR [--out FILE] [--bins N] [--max-element-features N]";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                await error.WriteLineAsync($"edge-agent profile: unexpected '{args[i]}'\n{Usage}").ConfigureAwait(false);
                return 2;
            }

            options[args[i][2..]] = args[++i];
        }

        var unknown = options.Keys.Except(["models", "model", "version", "inputs", "out", "bins", "max-element-features"]).ToArray();
        if (unknown.Length > 0 || !options.ContainsKey("models") || !options.ContainsKey("model") || !options.ContainsKey("inputs"))
        {
            await error.WriteLineAsync($"edge-agent profile: {(unknown.Length > 0 ? $"unknown option --{unknown[0]}" : "--models, --model and --inputs are required")}\n{Usage}").ConfigureAwait(false);
            return 2;
        }

        var drift = new DriftOptions { ReservoirSize = 1_000_000 };
        if (!TryNumber(options, "bins", 2, 100, drift.Bins, out var bins) || !TryNumber(options, "max-element-features", 1, 1024, drift.MaxElementFeatures, out var maxElements))
        {
            await error.WriteLineAsync("edge-agent profile: --bins must be 2 to 100 and --max-element-features 1 to 1024").ConfigureAwait(false);
            return 2;
        }

        drift.Bins = bins;
        drift.MaxElementFeatures = maxElements;
        try
        {
            var profile = await BuildAsync(options["models"], options["model"], options.GetValueOrDefault("version"), options["inputs"], drift, cancellationToken).ConfigureAwait(false);
            var path = options.GetValueOrDefault("out") ?? Path.Combine(options["models"], options["model"], profile.Version.ToString(CultureInfo.InvariantCulture), DriftMonitor.ProfileFileName);
            var indented = new ContractJsonContext(new JsonSerializerOptions(ContractJsonContext.Default.Options) { WriteIndented = true });
            await File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(profile, indented.DriftProfile), cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync(FormattableString.Invariant(
                $"profile of {profile.Model} version {profile.Version}: {profile.Requests} requests, {profile.Features.Count} features -> {path}")).ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (ex is FormatException or InferenceException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"edge-agent profile: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static bool TryNumber(Dictionary<string, string> options, string name, int min, int max, int fallback, out int value)
    {
        value = fallback;
        return !options.TryGetValue(name, out var text)
            || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max);
    }

    /// <summary>Runs every reference input through the model version and returns the profile of what it saw.</summary>
    public static async Task<DriftProfile> BuildAsync(string models, string model, string? version, string inputs, DriftOptions drift, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(drift);
        if (!Directory.Exists(inputs))
        {
            throw new IOException($"the inputs folder {inputs} does not exist");
        }

        var sources = Directory.EnumerateFileSystemEntries(inputs).Order(StringComparer.Ordinal)
            .Where(p => Directory.Exists(p) || RequestFile.IsRequestFile(p))
            .ToArray();
        if (sources.Length == 0)
        {
            throw new IOException($"the inputs folder {inputs} has no .json, .npy or request folders");
        }

        return await DriftProfiler.BuildAsync(models, model, version, sources, Read, drift, TimeProvider.System, cancellationToken).ConfigureAwait(false);
    }

    private static InferenceRequest Read(string source, ModelVersion model, PinnedBufferPool pool)
    {
        if (File.Exists(source))
        {
            return RequestFile.Read(source, File.ReadAllBytes(source), model, pool);
        }

        var request = new InferenceRequest(model.Inputs.Count);
        try
        {
            foreach (var input in model.Inputs)
            {
                var file = Path.Combine(source, input.Name + ".npy");
                if (!File.Exists(file))
                {
                    throw new FormatException($"{source}: no {input.Name}.npy for input '{input.Name}'");
                }

                try
                {
                    request.Inputs[input.Index] = RequestFile.ReadNpy(File.ReadAllBytes(file), input, pool);
                }
                catch (FormatException ex)
                {
                    throw new FormatException($"{file}: {ex.Message}", ex);
                }
            }

            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }
}
