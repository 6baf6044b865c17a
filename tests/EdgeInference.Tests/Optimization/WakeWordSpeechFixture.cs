using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Speech;

namespace EdgeInference.Tests.Optimization;

/// <summary>
/// Real speech turned into model inputs once for a test class: espeak-ng's voices say "hey jarvis" and other
/// sentences; the float melspectrogram and embedding turn them into the embedding's and the classifiers' inputs, as
/// <c>.npy</c> folders for calibration (one set of voices) and for judging (other voices).
/// </summary>
public sealed class WakeWordSpeechFixture : IDisposable
{
    public WakeWordSpeechFixture()
    {
        Folder = TestPaths.NewTempDirectory("wake-word-speech");
        using var features = new WakeWordFeatures(Model("melspectrogram"), Model("embedding"));
        foreach (var (set, clips) in new[] { ("calibration", WakeWordSpeech.Calibration), ("heldout", WakeWordSpeech.HeldOut) })
        {
            var embedding = Directory.CreateDirectory(Path.Combine(Folder, set, "embedding")).FullName;
            var classifier = Directory.CreateDirectory(Path.Combine(Folder, set, "classifier")).FullName;
            int windows = 0, scores = 0;
            foreach (var (clip, index) in clips.Select((c, i) => (c, i)))
            {
                var audio = WakeWordFeatures.Padded(SpeechCorpus.Speak(clip, Folder), seed: index);
                var mel = features.MelWindows(audio);
                foreach (var window in mel)
                {
                    // Every other window: neighbours overlap by 68 of 76 frames, and calibration runs each twice.
                    if (windows++ % 2 == 0)
                    {
                        Write(embedding, windows, [1, WakeWordFeatures.MelWindow, WakeWordFeatures.MelBins, 1], window);
                    }
                }

                foreach (var window in WakeWordFeatures.ClassifierWindows(features.Embed(mel)))
                {
                    Write(classifier, scores++, [1, WakeWordFeatures.Embeddings, 96], window);
                }
            }
        }
    }

    public string Folder { get; }

    /// <summary>The embedding model's inputs (76 × 32 mel frames) from the calibration voices.</summary>
    public string CalibrationEmbedding => Path.Combine(Folder, "calibration", "embedding");

    /// <summary>The classifiers' inputs (16 embeddings) from the calibration voices.</summary>
    public string CalibrationClassifier => Path.Combine(Folder, "calibration", "classifier");

    public string HeldOutEmbedding => Path.Combine(Folder, "heldout", "embedding");

    public string HeldOutClassifier => Path.Combine(Folder, "heldout", "classifier");

    public static string Model(string name) => Path.Combine(TestPaths.SampleModels, name, "1", "model.onnx");

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private static void Write(string folder, int index, long[] shape, float[] values) =>
        File.WriteAllBytes(Path.Combine(folder, $"{index:00000}.npy"), NpyFile.Write(TensorDataType.Fp32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
}
