using System.Diagnostics;
using EdgeInference.Runtime.Models;
using EdgeInference.Testing;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What the optimized-model cache saves at load: for every sample model, the session made from model.onnx with every
/// graph optimization (as the agent makes it), the first load that also saves the optimized model, and the load from
/// the cached ORT-format file. Medians of seven, one thread, the file in the page cache.
/// </summary>
internal static class LoadCacheCost
{
    /// <param name="extra">More ONNX files to measure beside the sample models (PaddleOCR's, say).</param>
    public static void Print(IReadOnlyList<string> extra)
    {
        Console.WriteLine("| model | model.onnx KiB | cached .ort KiB | cold load ms | first load + save ms | cached load ms | cold ÷ cached |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        var folder = TestPaths.NewTempDirectory("load-cache");
        try
        {
            var cache = new OptimizedModelCache(folder, () => OrtEnv.Instance().GetVersionString());
            var models = Directory.GetDirectories(TestPaths.SampleModels).Order(StringComparer.Ordinal).Select(m => (Name: Path.GetFileName(m), Path: Path.Combine(m, "1", "model.onnx")))
                .Concat(extra.Select(f => (Name: Path.GetFileNameWithoutExtension(f), Path: Path.GetFullPath(f))));
            foreach (var (name, path) in models)
            {
                var cold = Median(() => Session(path, null).Dispose());
                var entry = cache.EntryFor(name, 1, path, "bench", "CPU")!;
                var clock = Stopwatch.StartNew();
                Session(path, entry).Dispose();
                var saving = clock.Elapsed.TotalMilliseconds;
                entry.Commit();
                var cached = Median(() => Session(entry.Path, null).Dispose());
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"| {name} | {new FileInfo(path).Length / 1024} | {new FileInfo(entry.Path).Length / 1024} | {cold:0.0} | {saving:0.0} | {cached:0.0} | {cold / cached:0.00}× |"));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static InferenceSession Session(string path, OptimizedModelEntry? saveTo)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        if (saveTo is not null)
        {
            saveTo.Prepare();
            options.OptimizedModelFilePath = saveTo.Temporary;
            options.AddSessionConfigEntry("session.save_model_format", "ORT");
        }

        return new InferenceSession(path, options);
    }

    private static double Median(Action action)
    {
        action();
        var times = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        return times.Order().ElementAt(times.Count / 2);
    }
}
