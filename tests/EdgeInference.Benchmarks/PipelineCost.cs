using System.Diagnostics;
using EdgeInference.Agent.Protocols;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Benchmarks;

/// <summary>
/// The agent's own request pipeline in this process, stage by stage, without the web server: parse the
/// v2 JSON body into pinned buffers, run the model, write the JSON response. Time and managed bytes per request.
/// </summary>
internal static class PipelineCost
{
    public static async Task PrintAsync(string repository, int iterations)
    {
        var pool = new PinnedBufferPool();
        var onnxRuntime = new OnnxRuntimeEnvironment();
        var context = new ModelRuntimeContext(pool, new ExecutionProviderSelector(onnxRuntime.AvailableProviders), TimeProvider.System, NullLoggerFactory.Instance, onnxRuntime);
        using var models = new ModelRepository(repository, context);
        models.Reconcile();
        var model = models.Acquire("hey_jarvis", null);
        var json = System.Text.Encoding.UTF8.GetBytes(V2Client.JsonRequest([NamedTensor.Floats("x.1", [1, 16, 96], NamedTensor.RandomFloats(1536, 1))]));
        var responses = new ResponseBufferPool();

        double parse = 0, run = 0, write = 0;
        long parseBytes = 0, runBytes = 0, writeBytes = 0;
        for (var i = 0; i < iterations + 1000; i++)
        {
            var measured = i >= 1000;
            var t0 = Stopwatch.GetTimestamp();
            var a0 = GC.GetAllocatedBytesForCurrentThread();
            var request = V2InferRequestReader.Read(json, [], model, pool, out var binary);
            var t1 = Stopwatch.GetTimestamp();
            var a1 = GC.GetAllocatedBytesForCurrentThread();
            var response = await model.InferAsync(request, CancellationToken.None);
            var t2 = Stopwatch.GetTimestamp();
            var a2 = GC.GetAllocatedBytesForCurrentThread();
            var buffer = responses.Rent();
            V2InferResponseWriter.Write(buffer, response, binary);
            responses.Return(buffer);
            response.Dispose();
            request.Dispose();
            var t3 = Stopwatch.GetTimestamp();
            var a3 = GC.GetAllocatedBytesForCurrentThread();
            if (measured)
            {
                parse += Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds;
                run += Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds;
                write += Stopwatch.GetElapsedTime(t2, t3).TotalMicroseconds;
                parseBytes += a1 - a0;
                runBytes += a2 - a1;
                writeBytes += a3 - a2;
            }
        }

        // Parsing alone, over 64 different bodies in turn (the same body every time lets the processor learn its
        // branches): the floats as this benchmark's client writes them (shortest form, up to 9 digits), and as
        // Python's json and JavaScript's JSON.stringify write them (widened to doubles: up to 17 digits).
        var shortest = Bodies(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        var widened = Bodies(v => ((double)v).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        var (parseShortest, parseShortestBytes) = ParseOnly(model, pool, shortest, iterations);
        var (parseWide, parseWideBytes) = ParseOnly(model, pool, widened, iterations);

        model.Release();
        Console.WriteLine("| stage (hey_jarvis, 1 536 floats in, 1 out) | mean µs | managed bytes |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| parse the v2 JSON body into a pinned buffer | {parse / iterations:0.0} | {parseBytes / iterations} |");
        Console.WriteLine($"| validate and run (`ModelVersion.InferAsync`) | {run / iterations:0.0} | {runBytes / iterations} |");
        Console.WriteLine($"| write the JSON response, return buffers | {write / iterations:0.0} | {writeBytes / iterations} |");
        Console.WriteLine($"| total | {(parse + run + write) / iterations:0.0} | {(parseBytes + runBytes + writeBytes) / iterations} |");
        Console.WriteLine($"| parse alone, 64 bodies in turn, floats in shortest form ({shortest[0].Length / 1024} KiB) | {parseShortest:0.0} | {parseShortestBytes} |");
        Console.WriteLine($"| parse alone, 64 bodies in turn, floats as Python and JavaScript write them ({widened[0].Length / 1024} KiB) | {parseWide:0.0} | {parseWideBytes} |");
    }

    private static byte[][] Bodies(Func<float, string> format) =>
        Enumerable.Range(0, 64).Select(seed => System.Text.Encoding.UTF8.GetBytes(
            $$"""{"inputs":[{"name":"x.1","datatype":"FP32","shape":[1,16,96],"data":[{{string.Join(",", NamedTensor.RandomFloats(1536, seed).Select(format))}}]}]}""")).ToArray();

    private static (double Micros, long Bytes) ParseOnly(ModelVersion model, PinnedBufferPool pool, byte[][] bodies, int iterations)
    {
        double micros = 0;
        long bytes = 0;
        for (var i = 0; i < iterations + 1000; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var a0 = GC.GetAllocatedBytesForCurrentThread();
            var request = V2InferRequestReader.Read(bodies[i % bodies.Length], [], model, pool, out _);
            var t1 = Stopwatch.GetTimestamp();
            var a1 = GC.GetAllocatedBytesForCurrentThread();
            request.Dispose();
            if (i >= 1000)
            {
                micros += Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds;
                bytes += a1 - a0;
            }
        }

        return (micros / iterations, bytes / iterations);
    }
}
