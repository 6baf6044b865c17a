namespace EdgeInference.Packaging;

/// <summary>A trust document as it travels: its exact bytes (base64) and the root keys' signatures over them.</summary>
public sealed class SignedTrust
{
    /// <summary>Base64 of the document's JSON bytes, as signed.</summary>
    public string Trust { get; set; } = "";

    public List<PackageSignature> Signatures { get; set; } = [];
}
