using System.Text.Json;

namespace EdgeInference.Packaging;

/// <summary>Manifest bytes in and out, with the structural checks every reader applies.</summary>
public static class ManifestCodec
{
    public static byte[] Serialize(PackageManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, PackageJsonContext.Default.PackageManifest);

    /// <summary>Parses and checks a manifest; throws <see cref="PackageRejectedException"/> (malformed) naming the problem.</summary>
    public static PackageManifest Parse(ReadOnlySpan<byte> bytes)
    {
        PackageManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, PackageJsonContext.Default.PackageManifest);
        }
        catch (JsonException ex)
        {
            throw new PackageRejectedException(RejectionReasons.Malformed, $"the manifest is not valid JSON: {ex.Message}");
        }

        if (manifest is null)
        {
            throw new PackageRejectedException(RejectionReasons.Malformed, "the manifest is empty");
        }

        Check(manifest);
        return manifest;
    }

    /// <summary>The checks of <see cref="Parse"/> on a manifest being built.</summary>
    public static void Check(PackageManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.SchemaVersion != PackageManifest.CurrentSchemaVersion)
        {
            Fail($"schema_version {manifest.SchemaVersion} is not supported (this build reads {PackageManifest.CurrentSchemaVersion})");
        }

        if (!IsValidName(manifest.Name))
        {
            Fail($"name '{manifest.Name}' is not a model name: use letters, digits, '.', '_' or '-', not starting with '.' (at most 100)");
        }

        if (!SemanticVersion.TryParse(manifest.Version, out _))
        {
            Fail($"version '{manifest.Version}' is not a semantic version (MAJOR.MINOR.PATCH)");
        }

        if (manifest.MinAgentVersion is { } minimum && !SemanticVersion.TryParse(minimum, out _))
        {
            Fail($"min_agent_version '{minimum}' is not a semantic version");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (!PackageRoles.FileNames.TryGetValue(file.Role, out var expectedName))
            {
                Fail($"file '{file.Path}' has role '{file.Role}'; roles are {string.Join(", ", PackageRoles.FileNames.Keys)}");
            }

            if (file.Path != expectedName)
            {
                Fail($"the {file.Role} file must be named '{expectedName}', not '{file.Path}'");
            }

            if (!seen.Add(file.Role))
            {
                Fail($"the manifest lists more than one {file.Role} file");
            }

            if (file.Sha256.Length != 64 || !file.Sha256.All(char.IsAsciiHexDigitLower))
            {
                Fail($"file '{file.Path}' has sha256 '{file.Sha256}': 64 lower-case hex digits expected");
            }

            if (file.Size < 0)
            {
                Fail($"file '{file.Path}' has a negative size");
            }
        }

        if (!seen.Contains(PackageRoles.Model))
        {
            Fail("the manifest lists no model file (role 'model')");
        }
    }

    /// <summary>Whether <paramref name="name"/> can be a model's folder: letters, digits, '.', '_', '-', not starting with '.'.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 100 && name[0] != '.'
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static void Fail(string message) => throw new PackageRejectedException(RejectionReasons.Malformed, "manifest: " + message);
}
