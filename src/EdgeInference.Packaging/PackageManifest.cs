namespace EdgeInference.Packaging;

/// <summary>
/// What an operator signs: the package's name, version, files (with their SHA-256 and size), the model's
/// inputs and outputs, and the conditions for installing it. The signature covers the manifest's exact bytes.
/// </summary>
public sealed class PackageManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    /// <summary>The model's name: also its folder in the device's model repository.</summary>
    public string Name { get; set; } = "";

    /// <summary>A semantic version (e.g. <c>2.0.0</c>).</summary>
    public string Version { get; set; } = "";

    public string? Description { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this instant no device installs the package.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The oldest agent that may install it (a semantic version).</summary>
    public string? MinAgentVersion { get; set; }

    /// <summary>Signed permission to replace a newer version (a deliberate downgrade); without it, anti-rollback refuses one.</summary>
    public bool Rollback { get; set; }

    /// <summary>Every file of the package; exactly one has the role <c>model</c>.</summary>
    public List<PackageFile> Files { get; set; } = [];

    public List<PackageTensor> Inputs { get; set; } = [];

    public List<PackageTensor> Outputs { get; set; } = [];
}
