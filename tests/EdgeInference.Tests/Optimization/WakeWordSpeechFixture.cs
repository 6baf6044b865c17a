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
        WakeWordSpeechFolders.Write(Folder, Model("melspectrogram"), Model("embedding"));
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
}
