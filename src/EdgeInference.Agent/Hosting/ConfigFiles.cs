using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace EdgeInference.Agent.Hosting;

/// <summary>
/// The agent's settings files. Each <c>--config</c> names a JSON file, or a drop-in folder whose <c>*.json</c> files
/// load in ordinal name order (the .deb's unit reads <c>/etc/edge-agent/agent.json</c>, then
/// <c>/etc/edge-agent/agent.d/</c>, where a device's enrollment settings go). Later files override earlier ones;
/// environment variables and the command line override them all. A file that is missing or not JSON is not loaded
/// and becomes one of <see cref="Problems"/>, which stop the agent with its other bad settings.
/// </summary>
public sealed class ConfigFiles
{
    private ConfigFiles(IReadOnlyList<string> loaded, IReadOnlyList<string> problems)
    {
        Loaded = loaded;
        Problems = problems;
    }

    /// <summary>The files loaded, in order.</summary>
    public IReadOnlyList<string> Loaded { get; }

    public IReadOnlyList<string> Problems { get; }

    /// <summary>Adds every <c>--config</c> of <paramref name="args"/> to <paramref name="configuration"/>.</summary>
    public static ConfigFiles Add(IConfigurationBuilder configuration, string[] args)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(args);
        var loaded = new List<string>();
        var problems = new List<string>();
        foreach (var given in Named(args))
        {
            var path = Path.GetFullPath(given);
            IEnumerable<string> files;
            if (Directory.Exists(path))
            {
                try
                {
                    files = Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal);
                }
                catch (UnauthorizedAccessException)
                {
                    problems.Add($"--config '{given}': the agent cannot list this folder (permission denied)");
                    continue;
                }
            }
            else if (File.Exists(path))
            {
                files = [path];
            }
            else
            {
                problems.Add($"--config '{given}': there is no such file or folder");
                continue;
            }

            foreach (var file in files)
            {
                // Checked on its own first: a source that fails to load would stay in the host's configuration and fail again.
                if (Check(file) is { } problem)
                {
                    problems.Add($"--config '{file}': {problem}");
                    continue;
                }

                configuration.AddJsonFile(file, optional: false, reloadOnChange: false);
                loaded.Add(file);
            }
        }

        return new ConfigFiles(loaded, problems);
    }

    private static IEnumerable<string> Named(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length)
            {
                yield return args[++i];
            }
            else if (args[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                yield return args[i]["--config=".Length..];
            }
        }
    }

    /// <summary>
    /// What is wrong with a settings file, in words of our own: the runtime's messages are resource keys in the AOT
    /// agent (UseSystemResourceKeys), so the file is read and parsed here as the JSON provider would.
    /// </summary>
    private static string? Check(string file)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (UnauthorizedAccessException)
        {
            return "the agent cannot read it (permission denied); make it readable by the agent's user, e.g. 0640 root:edge-agent";
        }
        catch (IOException ex)
        {
            return $"cannot be read ({ex.GetType().Name}, HResult {ex.HResult})";
        }

        try
        {
            new ConfigurationBuilder().AddJsonStream(new MemoryStream(bytes)).Build();
            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            // A stream source lets the parser's JsonException through; the rest (shape, duplicates) are FormatExceptions.
            return Describe(bytes);
        }
    }

    /// <summary>Why the JSON provider refused <paramref name="bytes"/>, found by parsing them as it does.</summary>
    private static string Describe(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(new MemoryStream(bytes), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? "a setting is given twice (names are case-insensitive)"
                : $"settings must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}";
        }
        catch (JsonException ex)
        {
            return $"not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}";
        }
    }
}
