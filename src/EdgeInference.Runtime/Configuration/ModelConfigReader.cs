using System.Text.Json;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Configuration;

/// <summary>Reads and validates a model's config.json; every problem is reported with the file and the property.</summary>
public static class ModelConfigReader
{
    public const string FileName = "config.json";

    /// <summary>The most elements a warm-up input may have (64 MiB of FP32).</summary>
    private const long MaxWarmupElements = 1 << 24;

    /// <summary>Parses <paramref name="json"/>; throws <see cref="ModelConfigException"/> naming the problem.</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        ModelConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ModelConfigJsonContext.Default.ModelConfig);
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException($"{source}: {ex.Message}", ex);
        }

        config ??= new ModelConfig();
        Validate(config, source);
        return config;
    }

    /// <summary>Reads the config file in <paramref name="modelDirectory"/>, or the defaults when there is none.</summary>
    public static ModelConfig Read(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, FileName);
        return File.Exists(path) ? Parse(File.ReadAllBytes(path), path) : new ModelConfig();
    }

    private static void Validate(ModelConfig config, string source)
    {
        if (config.VersionPolicy is { } policy)
        {
            var chosen = (policy.Latest is not null ? 1 : 0) + (policy.All is not null ? 1 : 0) + (policy.Specific is not null ? 1 : 0);
            if (chosen != 1)
            {
                throw new ModelConfigException($"{source}: version_policy needs exactly one of latest, all or specific");
            }

            if (policy.Latest is < 1)
            {
                throw new ModelConfigException($"{source}: version_policy.latest must be at least 1, not {policy.Latest}");
            }

            if (policy.Specific is { } specific && (specific.Count == 0 || specific.Any(v => v < 1)))
            {
                throw new ModelConfigException($"{source}: version_policy.specific must list versions of 1 or more");
            }
        }

        foreach (var provider in config.ExecutionProviders ?? [])
        {
            if (!ExecutionProviderSelector.DefaultPreference.Contains(provider, StringComparer.OrdinalIgnoreCase))
            {
                throw new ModelConfigException(
                    $"{source}: execution_providers has unknown provider '{provider}' (known: {string.Join(", ", ExecutionProviderSelector.DefaultPreference)})");
            }
        }

        if (config.Batching is { } batching)
        {
            if (batching.MaxBatchSize is < 0 or > 4096)
            {
                throw new ModelConfigException($"{source}: batching.max_batch_size must be between 0 and 4096, not {batching.MaxBatchSize}");
            }

            if (batching.MaxQueueSize is < 1 or > 1_000_000)
            {
                throw new ModelConfigException($"{source}: batching.max_queue_size must be between 1 and 1000000, not {batching.MaxQueueSize}");
            }

            if (batching.MaxQueueDelayMicroseconds is < 0 or > 1_000_000)
            {
                throw new ModelConfigException(
                    $"{source}: batching.max_queue_delay_microseconds must be between 0 and 1000000, not {batching.MaxQueueDelayMicroseconds}");
            }
        }

        if (config.Warmup is { } warmup)
        {
            if (warmup.Iterations is < 0 or > 1000)
            {
                throw new ModelConfigException($"{source}: warmup.iterations must be between 0 and 1000, not {warmup.Iterations}");
            }

            foreach (var input in warmup.Inputs ?? [])
            {
                if (string.IsNullOrEmpty(input.Name) || input.Shape.Any(d => d < 0))
                {
                    throw new ModelConfigException($"{source}: warmup.inputs entries need a name and a shape of non-negative dimensions");
                }

                if (TensorShape.Problem([.. input.Shape], MaxWarmupElements) is { } problem)
                {
                    throw new ModelConfigException($"{source}: warmup input '{input.Name}' {problem}");
                }
            }
        }

        if (config.Threads is { IntraOp: < 0 } or { InterOp: < 0 })
        {
            throw new ModelConfigException($"{source}: threads.intra_op and threads.inter_op must not be negative");
        }

        if (config.Cache is { MaxEntries: < 1 } or { MaxBytes: < 1 })
        {
            throw new ModelConfigException($"{source}: cache.max_entries and cache.max_bytes must be positive");
        }
    }
}
