using System.Globalization;
using EdgeInference.Optimization.Optimize;
using EdgeInference.Optimization.Verification;
using EdgeInference.Testing;
using EdgeInference.Testing.Speech;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What 8-bit quantization buys and costs on the sample models, with espeak-ng speech: each variant's size, its speed
/// against float (one thread), its accuracy on held-out voices, as <c>models optimize</c> measures them; then the
/// wake-word decisions end to end, audio → melspectrogram → embedding → hey_jarvis, with each model float or int8.
/// </summary>
internal static class QuantizationCost
{
    private const double Threshold = 0.5;

    public static void Print()
    {
        var folder = TestPaths.NewTempDirectory("bench-quantize");
        try
        {
            string Model(string name) => Path.Combine(TestPaths.SampleModels, name, "1", "model.onnx");
            WakeWordSpeechFolders.Write(folder, Model("melspectrogram"), Model("embedding"));
            var classifierGates = new VerificationGates { MinAgreement = 0.999, MinPositivesKept = 0.98, MaxP99AbsDiff = 0.05, Threshold = Threshold };
            var kept = new Dictionary<string, OptimizedPackage>(StringComparer.Ordinal);
            Console.WriteLine("| model | variant | size × float | speed × float (µs) | max \\|Δ\\| | p99 \\|Δ\\| | min cosine | agreement | positives kept | verdict |");
            Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            // The classifiers that read 16 embeddings (timer and weather read 34 and 22), and the embedding.
            foreach (var name in new[] { "hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy", "embedding" })
            {
                var inputs = name == "embedding" ? "embedding" : "classifier";
                var gates = name == "embedding" ? new VerificationGates { MinCosine = 0.99 } : classifierGates;
                var package = ModelOptimizer.OptimizeAsync(Model(name), Path.Combine(folder, "calibration", inputs), Path.Combine(folder, "heldout", inputs), new OptimizationOptions { Gates = gates }, CancellationToken.None).GetAwaiter().GetResult();
                kept[name] = package;
                Console.WriteLine(Invariant($"| {name} | float | 1 | 1 ({package.Report.FloatLatencyMicroseconds:0.#}) | | | | | | |"));
                foreach (var v in package.Report.Variants)
                {
                    var o = v.Verification.Outputs[0];
                    Console.WriteLine(Invariant(
                        $"| {name} | {v.Name} | {v.SizeRatio:0.000} | {v.Speedup:0.00} ({v.LatencyMicroseconds:0.#}) | {o.MaxAbsDiff:G3} | {o.P99AbsDiff:G3} | {(o.MinCosine is { } c ? c.ToString("0.0000", CultureInfo.InvariantCulture) : "")} | {o.Agreement:P2} | {(o.PositivesKept is { } k ? $"{k:P1} of {o.ReferencePositives}" : "")} | {(v.Name == package.Report.Chosen ? "**kept**" : v.Passed ? "passes" : "fails: " + v.Failure)} |"));
                }
            }

            // End to end on the held-out clips: every embedding variant and the kept hey_jarvis.
            Console.WriteLine();
            Console.WriteLine("| embedding | hey_jarvis | windows | agreement | positives kept | p99 \\|Δscore\\| | max \\|Δscore\\| | clips detected |");
            Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            var work = Directory.CreateDirectory(Path.Combine(folder, "models")).FullName;
            var jarvis = Path.Combine(work, "hey_jarvis.int8.onnx");
            File.WriteAllBytes(jarvis, kept["hey_jarvis"].Model ?? throw new InvalidOperationException("no hey_jarvis variant passed"));
            var embeddings = new List<(string Name, string Path)> { ("float", Model("embedding")) };
            foreach (var variant in QuantizationVariant.All.Where(v => v.PerChannel && v.Mode == EdgeInference.Optimization.Quantization.QuantizationMode.Static))
            {
                var path = Path.Combine(work, $"embedding.{variant.Name}.onnx");
                File.WriteAllBytes(path, EdgeInference.Optimization.Quantization.ModelQuantizer.Quantize(Model("embedding"), Path.Combine(folder, "calibration", "embedding"),
                    new EdgeInference.Optimization.Quantization.QuantizationOptions { Method = variant.Method, PerChannel = true }).Bytes);
                embeddings.Add((variant.Name, path));
            }

            using var features = new WakeWordFeatures(Model("melspectrogram"), Model("embedding"));
            var clips = WakeWordSpeech.HeldOut.Select((clip, i) => features.MelWindows(WakeWordFeatures.Padded(SpeechCorpus.Speak(clip, folder), seed: i))).ToList();
            var reference = EndToEnd(features, clips, Model("embedding"), Model("hey_jarvis"));
            foreach (var (embeddingName, embeddingPath) in embeddings)
            {
                foreach (var (jarvisName, jarvisPath) in new[] { ("float", Model("hey_jarvis")), ($"int8 ({kept["hey_jarvis"].Report.Chosen})", jarvis) })
                {
                    if (embeddingName == "float" && jarvisName == "float")
                    {
                        continue;
                    }

                    Console.WriteLine(Compare(reference, EndToEnd(features, clips, embeddingPath, jarvisPath), embeddingName, jarvisName));
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>hey_jarvis's score for every window of every clip.</summary>
    private static List<float[]> EndToEnd(WakeWordFeatures features, List<List<float[]>> clips, string embedding, string classifier)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        using var embed = new InferenceSession(embedding, options);
        using var score = new InferenceSession(classifier, options);
        return [.. clips.Select(mel => WakeWordFeatures.ClassifierWindows(features.Embed(mel, embed)).Select(w => WakeWordFeatures.Run(score, w, [1, 16, 96])[0]).ToArray())];
    }

    private static string Compare(List<float[]> reference, List<float[]> candidate, string embedding, string classifier)
    {
        int windows = 0, agreed = 0, positives = 0, keptPositives = 0, clips = 0, clipsKept = 0;
        var differences = new List<double>();
        foreach (var (expected, actual) in reference.Zip(candidate))
        {
            for (var i = 0; i < expected.Length; i++)
            {
                windows++;
                differences.Add(Math.Abs(expected[i] - actual[i]));
                agreed += (expected[i] >= Threshold) == (actual[i] >= Threshold) ? 1 : 0;
                positives += expected[i] >= Threshold ? 1 : 0;
                keptPositives += expected[i] >= Threshold && actual[i] >= Threshold ? 1 : 0;
            }

            if (expected.Any(s => s >= Threshold))
            {
                clips++;
                clipsKept += actual.Any(s => s >= Threshold) ? 1 : 0;
            }
        }

        differences.Sort();
        return Invariant($"| {embedding} | {classifier} | {windows} | {(double)agreed / windows:P2} | {(double)keptPositives / positives:P1} of {positives} | {differences[(int)(0.99 * (differences.Count - 1))]:0.0000} | {differences[^1]:0.0000} | {clipsKept} of {clips} |");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
