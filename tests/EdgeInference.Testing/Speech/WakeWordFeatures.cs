using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Testing.Speech;

/// <summary>
/// openWakeWord's feature pipeline with bare ONNX Runtime: audio → melspectrogram (scaled as openWakeWord does,
/// <c>x / 10 + 2</c>) → windows of 76 frames every 8 → embedding (96 values) → windows of 16 embeddings, the
/// classifiers' input.
/// </summary>
public sealed class WakeWordFeatures : IDisposable
{
    public const int MelBins = 32;
    public const int MelWindow = 76;
    public const int MelStep = 8;
    public const int Embeddings = 16;

    private readonly InferenceSession _melspectrogram;
    private readonly InferenceSession _embedding;

    public WakeWordFeatures(string melspectrogram, string embedding)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        _melspectrogram = new InferenceSession(melspectrogram, options);
        _embedding = new InferenceSession(embedding, options);
    }

    /// <summary><paramref name="audio"/> with a second of faint noise before and after, as a wake word sits in a stream.</summary>
    public static float[] Padded(float[] audio, int seed)
    {
        ArgumentNullException.ThrowIfNull(audio);
        var random = new Random(seed);
        float Noise() => (float)(random.NextDouble() - 0.5) * 20;
        return [.. Enumerable.Range(0, SpeechCorpus.SampleRate).Select(_ => Noise()), .. audio, .. Enumerable.Range(0, SpeechCorpus.SampleRate).Select(_ => Noise())];
    }

    /// <summary>The embedding model's inputs for <paramref name="audio"/>: 76 × 32 mel frames, every 8 frames.</summary>
    public List<float[]> MelWindows(float[] audio)
    {
        var mel = Run(_melspectrogram, audio, [1, audio.Length]);
        var frames = mel.Length / MelBins;
        var windows = new List<float[]>();
        for (var start = 0; start + MelWindow <= frames; start += MelStep)
        {
            windows.Add([.. mel.AsSpan(start * MelBins, MelWindow * MelBins).ToArray().Select(v => (v / 10f) + 2f)]);
        }

        return windows;
    }

    /// <summary>The 96-value embedding of each window, by <paramref name="embedding"/> (this pipeline's own model when null).</summary>
    public List<float[]> Embed(List<float[]> windows, InferenceSession? embedding = null) =>
        [.. windows.Select(w => Run(embedding ?? _embedding, w, [1, MelWindow, MelBins, 1]))];

    /// <summary>The classifiers' inputs: 16 consecutive embeddings, every embedding.</summary>
    public static List<float[]> ClassifierWindows(List<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return [.. Enumerable.Range(0, Math.Max(0, embeddings.Count - Embeddings + 1)).Select(s => embeddings.Skip(s).Take(Embeddings).SelectMany(e => e).ToArray())];
    }

    /// <summary>A model's first output for one float input.</summary>
    public static float[] Run(InferenceSession session, float[] input, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _melspectrogram.Dispose();
        _embedding.Dispose();
    }
}
