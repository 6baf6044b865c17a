using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Testing.Speech;

/// <summary>
/// <see cref="WakeWordSpeech"/> turned into model inputs: espeak-ng says each clip; the float melspectrogram and
/// embedding make the embedding's inputs (76 × 32 mel frames, every other window) and the classifiers' inputs
/// (16 embeddings), as <c>.npy</c> folders: <c>calibration/embedding</c>, <c>calibration/classifier</c>,
/// <c>heldout/embedding</c>, <c>heldout/classifier</c>.
/// </summary>
public static class WakeWordSpeechFolders
{
    public static void Write(string folder, string melspectrogram, string embedding)
    {
        using var features = new WakeWordFeatures(melspectrogram, embedding);
        foreach (var (set, clips) in new[] { ("calibration", WakeWordSpeech.Calibration), ("heldout", WakeWordSpeech.HeldOut) })
        {
            var embeddingInputs = Directory.CreateDirectory(Path.Combine(folder, set, "embedding")).FullName;
            var classifierInputs = Directory.CreateDirectory(Path.Combine(folder, set, "classifier")).FullName;
            int windows = 0, scores = 0;
            foreach (var (clip, index) in clips.Select((c, i) => (c, i)))
            {
                var mel = features.MelWindows(WakeWordFeatures.Padded(SpeechCorpus.Speak(clip, folder), seed: index));
                foreach (var window in mel)
                {
                    // Every other window: neighbours overlap by 68 of 76 frames, and calibration runs each twice.
                    if (windows++ % 2 == 0)
                    {
                        Write(embeddingInputs, windows, [1, WakeWordFeatures.MelWindow, WakeWordFeatures.MelBins, 1], window);
                    }
                }

                foreach (var window in WakeWordFeatures.ClassifierWindows(features.Embed(mel)))
                {
                    Write(classifierInputs, scores++, [1, WakeWordFeatures.Embeddings, 96], window);
                }
            }
        }
    }

    private static void Write(string folder, int index, long[] shape, float[] values) =>
        File.WriteAllBytes(Path.Combine(folder, $"{index:00000}.npy"), NpyFile.Write(TensorDataType.Fp32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
}
