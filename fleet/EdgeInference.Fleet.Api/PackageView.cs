using EdgeInference.Packaging;

namespace EdgeInference.Fleet.Api;

/// <summary>A pushed package: its signed manifest as the operator made it, and what the fleet read from it.</summary>
public sealed class PackageView
{
    public string Name { get; set; } = "";

    public string Version { get; set; } = "";

    public SignedManifest Signed { get; set; } = new();

    public PackageManifest Manifest { get; set; } = new();

    public DateTimeOffset PushedAt { get; set; }

    public string? PushedBy { get; set; }
}
