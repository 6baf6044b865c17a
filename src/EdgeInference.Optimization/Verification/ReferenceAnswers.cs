using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Optimization.Verification;

/// <summary>
/// A reference model's answers on a folder of inputs, computed once: optimize compares every variant with them and
/// takes its golden vectors from them, so the float model runs over the held-out set once, not once per variant.
/// </summary>
internal sealed class ReferenceAnswers
{
    public ReferenceAnswers(string model, string inputs)
    {
        Model = model;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model)));
        using var session = ModelComparer.Open(model);
        InputNames = [.. session.InputMetadata.Keys];
        OutputNames = [.. session.OutputMetadata.Keys];
        OutputShapes = [.. session.OutputMetadata.Values.Select(m => m.Dimensions.Select(d => (long)d).ToArray())];
        Samples = SampleFolder.Read(inputs, InputNames);
        Outputs = [.. Samples.Select(s => ModelComparer.Run(session, [.. InputNames.Select(n => s.Tensors[n])], s.Source))];
    }

    public string Model { get; }

    public string Sha256 { get; }

    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    /// <summary>The declared shape of each output (free dimensions as -1).</summary>
    public long[][] OutputShapes { get; }

    public List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> Samples { get; }

    /// <summary>Per sample, each output's values.</summary>
    public List<float[][]> Outputs { get; }
}
