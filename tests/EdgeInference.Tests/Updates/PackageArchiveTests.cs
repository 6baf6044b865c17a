using System.Formats.Tar;
using EdgeInference.Packaging;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Updates;

/// <summary>What <c>edge-agent install</c> refuses to unpack: anything but the files a package holds, once each, as its manifest lists them.</summary>
public sealed class PackageArchiveTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("archive");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("link", "'model.onnx' is a SymbolicLink entry")]
    [InlineData("traversal", "'../model.onnx' is not a file a package holds")]
    [InlineData("twice", "'model.onnx' is in the archive twice")]
    [InlineData("no-manifest", "the archive has no package.json")]
    [InlineData("missing-file", "model.onnx is listed in the manifest but not in the archive")]
    [InlineData("other-size", "model.onnx is 3 bytes; the signed manifest says 4")]
    public async Task AnArchiveThatIsNotAPackage_IsRefusedNamingWhy(string kind, string message)
    {
        using var key = SigningKey.Generate();
        var signed = key.Sign(new PackageManifest
        {
            Name = "scorer", Version = "1.0.0",
            Files = [new PackageFile { Path = "model.onnx", Role = PackageRoles.Model, Size = 4, Sha256 = new string('a', 64) }],
        });
        var manifest = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(signed, PackageJsonContext.Default.SignedManifest);
        using var archive = new MemoryStream();
        await using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            async Task File(string name, byte[] data) => await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            if (kind != "no-manifest")
            {
                await File(PackageArchive.ManifestEntry, manifest);
            }

            switch (kind)
            {
                case "link":
                    await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "model.onnx") { LinkName = "/etc/shadow" });
                    break;
                case "traversal":
                    await File("../model.onnx", [1, 2, 3, 4]);
                    break;
                case "twice":
                    await File("model.onnx", [1, 2, 3, 4]);
                    await File("model.onnx", [1, 2, 3, 4]);
                    break;
                case "other-size":
                    await File("model.onnx", [1, 2, 3]);
                    break;
                case "no-manifest":
                    await File("model.onnx", [1, 2, 3, 4]);
                    break;
            }
        }

        archive.Position = 0;
        var folder = Path.Combine(_root, kind);
        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => PackageArchive.ExtractAsync(archive, folder, 1 << 20, CancellationToken.None));

        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
        Assert.False(System.IO.File.Exists(Path.Combine(_root, "model.onnx")), "nothing is written outside the folder");
        Assert.Empty(Directory.EnumerateFiles(_root, "shadow", SearchOption.AllDirectories));
    }
}
