using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests;

/// <summary>Model repositories of generated models, written to a temp directory the caller deletes.</summary>
internal static class GeneratedModels
{
    /// <summary>The ~4 MB scorer the benchmark uses: 512 features → 1024 → 512 → 1.</summary>
    public static byte[] Mlp(int seed) => OnnxModelBuilder.Mlp(512, [1024, 512], seed);

    public static string Repository(params (string Name, long Version, byte[] Model, string? Config)[] models)
    {
        var root = TestPaths.NewTempDirectory("models");
        foreach (var (name, version, model, config) in models)
        {
            OnnxModelBuilder.Write(Path.Combine(root, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture)), model, config);
        }

        return root;
    }

    public static NamedTensor Features(int seed, int rows = 1) =>
        NamedTensor.Floats("features", [rows, 512], NamedTensor.RandomFloats(512 * rows, seed));
}
