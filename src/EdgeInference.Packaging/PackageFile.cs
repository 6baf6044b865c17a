namespace EdgeInference.Packaging;

/// <summary>One file of a package, as the manifest lists it.</summary>
public sealed class PackageFile
{
    /// <summary>A plain file name (no folders); for the model, <c>model.onnx</c>.</summary>
    public string Path { get; set; } = "";

    /// <summary>See <see cref="PackageRoles"/>.</summary>
    public string Role { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the file.</summary>
    public string Sha256 { get; set; } = "";

    public long Size { get; set; }
}
