using System.Diagnostics;
using EdgeInference.Agent.Drift;
using EdgeInference.Runtime.Drift;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Benchmarks;

/// <summary>
/// What drift sketches cost on the hot path: one <see cref="ModelDriftMonitor.Observe"/> per request against a learned
/// reference (the steady state), in ns per value observed and as a share of the request's own inference.
/// </summary>
internal static class DriftCost
{
    public static async Task PrintAsync(string sampleModels, int iterations)
    {
        var work = TestPaths.NewTempDirectory("drift-bench");
        try
        {
            OnnxModelBuilder.Write(Path.Combine(work, "tabular", "1"), OnnxModelBuilder.Mlp(8, [16], seed: 5));
            TestPaths.CopyDirectory(Path.Combine(sampleModels, "hey_jarvis"), Path.Combine(work, "hey_jarvis"));
            var pool = new PinnedBufferPool();
            var onnxRuntime = new OnnxRuntimeEnvironment();
            var context = new ModelRuntimeContext(pool, new ExecutionProviderSelector(onnxRuntime.AvailableProviders), TimeProvider.System, NullLoggerFactory.Instance, onnxRuntime);
            using var models = new ModelRepository(work, context);
            models.Reconcile();

            Console.WriteLine("| model, request | values per request | features | drift ns per value | drift µs per request | inference µs per request | drift share | drift bytes per request |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            await MeasureAsync(models, "hey_jarvis", "[1,16,96] in (summaries), [1,1] out", NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, 1)), iterations);
            await MeasureAsync(models, "tabular", "8 features × 1 row", NamedTensor.Floats("features", [1, 8], NamedTensor.RandomFloats(8, 1)), iterations);
            await MeasureAsync(models, "tabular", "8 features × 64 rows", NamedTensor.Floats("features", [64, 8], NamedTensor.RandomFloats(512, 1)), iterations / 4);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task MeasureAsync(ModelRepository models, string name, string shape, NamedTensor input, int iterations)
    {
        var model = models.Acquire(name, null);
        try
        {
            var request = new InferenceRequest(1);
            request.Inputs[0] = TensorBuffer.Copy(input.Name, input.Type, input.Shape, input.Data);
            using var response = await model.InferAsync(request, CancellationToken.None);
            var values = request.Inputs[0]!.ElementCount + response.Outputs.Sum(o => o!.ElementCount);

            // Learn a reference first (min samples 1), so the measured windows bin against it like in production.
            var monitor = new ModelDriftMonitor(model, new DriftOptions { MinSamples = 1 }, TimeProvider.System);
            monitor.Observe(request.Inputs, response.Outputs);
            monitor.CloseWindow("bench");

            double observe = 0, infer = 0;
            long bytes = 0;
            for (var i = 0; i < iterations + 1000; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                using (await model.InferAsync(request, CancellationToken.None))
                {
                }

                var t1 = Stopwatch.GetTimestamp();
                var a1 = GC.GetAllocatedBytesForCurrentThread();
                monitor.Observe(request.Inputs, response.Outputs);
                var a2 = GC.GetAllocatedBytesForCurrentThread();
                var t2 = Stopwatch.GetTimestamp();
                if (i >= 1000)
                {
                    infer += Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds;
                    observe += Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds;
                    bytes += a2 - a1;
                }
            }

            var features = monitor.Features.Count();
            request.Dispose();
            Console.WriteLine(FormattableString.Invariant(
                $"| {name}, {shape} | {values} | {features} | {observe * 1000 / iterations / values:0.0} | {observe / iterations:0.00} | {infer / iterations:0.0} | {observe / infer:P1} | {bytes / iterations} |"));
        }
        finally
        {
            model.Release();
        }

    }
}
