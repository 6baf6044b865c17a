using EdgeInference.Testing;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Tests;

/// <summary>Realistic inputs for each sample model, deterministic by seed.</summary>
internal static class SampleInputs
{
    public static IReadOnlyList<NamedTensor> For(string model, BareOrt reference, int seed = 1) => model switch
    {
        // One second of 16 kHz audio at 16-bit scale, as openWakeWord feeds the melspectrogram.
        "melspectrogram" => [NamedTensor.Floats("input", [1, 16000], NamedTensor.RandomFloats(16000, seed, 8000f))],
        "silero_vad" =>
        [
            NamedTensor.Floats("input", [1, 512], NamedTensor.RandomFloats(512, seed, 0.3f)),
            NamedTensor.Int64s("sr", [], [16000]),
            NamedTensor.Floats("h", [2, 1, 64], new float[128]),
            NamedTensor.Floats("c", [2, 1, 64], new float[128]),
        ],
        _ => reference.Session.InputMetadata.Select(input =>
        {
            var shape = input.Value.Dimensions.Select(d => d < 0 ? 1L : d).ToArray();
            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            return NamedTensor.Floats(input.Key, shape, NamedTensor.RandomFloats(count, seed));
        }).ToArray(),
    };

    public static string ModelPath(string model) => Path.Combine(TestPaths.SampleModels, model, "1", "model.onnx");
}
