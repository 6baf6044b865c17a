namespace EdgeInference.Packaging;

/// <summary>A manifest as it travels: its exact bytes (base64) and, when signed, the signature over them.</summary>
public sealed class SignedManifest
{
    /// <summary>Base64 of the manifest's UTF-8 JSON bytes, which are what is signed.</summary>
    public string Manifest { get; set; } = "";

    public PackageSignature? Signature { get; set; }
}
