namespace EdgeInference.Packaging;

/// <summary>The roles a package file can have, and the file name each installs as.</summary>
public static class PackageRoles
{
    public const string Model = "model";

    /// <summary>The reference drift profile (<c>profile.json</c>, read by the agent's drift statistics).</summary>
    public const string Profile = "profile";

    /// <summary>Golden test vectors (<c>golden.json</c>, see <see cref="GoldenSet"/>).</summary>
    public const string Golden = "golden";

    /// <summary>
    /// The version's own model config (<c>config.json</c> in the version folder: execution providers, batching,
    /// warm-up inputs, threads, cache), used instead of the model's config for this version only.
    /// </summary>
    public const string Config = "config";

    public static readonly IReadOnlyDictionary<string, string> FileNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Model] = "model.onnx",
        [Profile] = "profile.json",
        [Golden] = "golden.json",
        [Config] = "config.json",
    };
}
