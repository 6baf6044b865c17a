using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Optimization.Optimize;

/// <summary>How long one run of a model takes on this CPU, one thread, fully optimized: the median of several timed batches after a warm-up.</summary>
internal static class LatencyMeter
{
    private const int Batches = 7;
    private static readonly TimeSpan BatchTime = TimeSpan.FromMilliseconds(40);

    /// <param name="source">Where <paramref name="input"/> comes from, for an error.</param>
    public static double MedianMicroseconds(string model, (long[] Shape, float[] Data)[] input, string source)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        using var session = new InferenceSession(model, options);
        var names = session.InputMetadata.Keys.ToArray();
        var outputs = session.OutputMetadata.Keys.ToArray();
        var values = input.Select(t => OrtValue.CreateTensorValueFromMemory(t.Data, t.Shape)).ToList();
        using var run = new RunOptions();
        try
        {
            try
            {
                session.Run(run, names, values, outputs).Dispose();
            }
            catch (OnnxRuntimeException ex)
            {
                throw new InvalidDataException($"{source}: {ex.Message}", ex);
            }

            void Once() => session.Run(run, names, values, outputs).Dispose();

            // Warm-up, which also sizes a batch to about 40 ms.
            var clock = Stopwatch.StartNew();
            var warm = 0;
            while (warm < 10 || clock.Elapsed < BatchTime)
            {
                Once();
                warm++;
            }

            var perBatch = Math.Max(1, (int)(warm * BatchTime / clock.Elapsed));
            var means = new double[Batches];
            for (var b = 0; b < Batches; b++)
            {
                clock.Restart();
                for (var i = 0; i < perBatch; i++)
                {
                    Once();
                }

                means[b] = clock.Elapsed.TotalMicroseconds / perBatch;
            }

            Array.Sort(means);
            return Math.Round(means[Batches / 2], 2);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }
}
