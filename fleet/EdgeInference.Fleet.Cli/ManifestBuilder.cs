using System.Security.Cryptography;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Fleet.Cli;

/// <summary>Builds a package manifest from files on disk: their SHA-256 and sizes, and the model's inputs and outputs as ONNX Runtime reads them.</summary>
public static class ManifestBuilder
{
    /// <summary>How long a package is installable when <c>--expires-in</c> does not say.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);

    /// <summary>Throws <see cref="FormatException"/> naming a file that is not what it should be.</summary>
    public static PackageManifest Build(string name, string version, IReadOnlyDictionary<string, string> files, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(files);
        // Every package expires (devices refuse one that does not): a signed manifest must not be replayable forever.
        var manifest = new PackageManifest { Name = name, Version = version, CreatedAt = now, ExpiresAt = now + DefaultLifetime };
        foreach (var (role, path) in files)
        {
            using var stream = File.OpenRead(path);
            manifest.Files.Add(new PackageFile
            {
                Path = PackageRoles.FileNames[role],
                Role = role,
                Size = stream.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream)),
            });
        }

        try
        {
            using var session = new InferenceSession(files[PackageRoles.Model]);
            manifest.Inputs = session.InputMetadata.Select(m => Tensor(m.Key, m.Value)).ToList();
            manifest.Outputs = session.OutputMetadata.Select(m => Tensor(m.Key, m.Value)).ToList();
        }
        catch (OnnxRuntimeException ex)
        {
            throw new FormatException($"{files[PackageRoles.Model]} is not a model ONNX Runtime can load: {ex.Message}", ex);
        }

        return manifest;
    }

    private static PackageTensor Tensor(string name, NodeMetadata metadata) => new()
    {
        Name = name,
        Datatype = metadata.IsTensor && TensorDataTypes.TryFromOnnx(metadata.ElementDataType, out var type) ? type.Value.ToProtocolName() : metadata.OnnxValueType.ToString(),
        Shape = metadata.IsTensor ? metadata.Dimensions.Select(d => (long)d).ToList() : [],
    };
}
