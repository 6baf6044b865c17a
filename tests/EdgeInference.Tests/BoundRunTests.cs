using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;

namespace EdgeInference.Tests;

/// <summary>Runs through I/O bindings bound once per batch size: same answers as bare ONNX Runtime, no allocation inside its API.</summary>
public sealed class BoundRunTests
{
    [Fact]
    public async Task Infer_OnceWarm_AnswersLikeBareOrtForEachBatchSize_AndAllocatesLittleMoreThanTheResponse()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 11), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            using var bare = new BareOrt(Path.Combine(models, "mlp", "1", "model.onnx"));
            var model = agent.Models.Find("mlp")!.Latest!;
            var pool = new PinnedBufferPool();
            foreach (var rows in new[] { 1, 3, 1, 3 })
            {
                var features = GeneratedModels.Features(seed: rows, rows);
                var expected = bare.Run([features])[0];
                for (var i = 0; i < 3; i++)
                {
                    using var request = Request(pool, features);
                    using var response = await model.InferAsync(request, CancellationToken.None);
                    Assert.Equal(expected.Shape, response.Outputs[0]!.Shape);
                    Assert.Equal(expected.Data, response.Outputs[0]!.Span.ToArray());
                }
            }

            // Warm for one row: what a run allocates is the response and its output buffer's wrapper. A plain
            // run through ONNX Runtime's managed Run also builds name and handle arrays and output OrtValues
            // (about 770 bytes here).
            var one = GeneratedModels.Features(seed: 5);
            const int Runs = 200;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Runs; i++)
            {
                using var request = Request(pool, one);
                using var response = await model.InferAsync(request, CancellationToken.None);
            }

            var perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / Runs;
            Assert.True(perRun <= 400, $"a warm run allocated {perRun} bytes (request included)");
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task Infer_OfEveryBatchSizeUpTo64_KeepsIdleBindingsWithinTheirBudget()
    {
        var models = GeneratedModels.Repository(("mlp", 1, GeneratedModels.Mlp(seed: 12), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var model = agent.Models.Find("mlp")!.Latest!;
            var pool = new PinnedBufferPool();

            // Each size twice: the first run learns its shapes, the second binds them. One idle binding of each
            // would hold 2 052 bytes a row, 4.3 MB in all.
            for (var rows = 1; rows <= 64; rows++)
            {
                for (var i = 0; i < 2; i++)
                {
                    using var request = Request(pool, GeneratedModels.Features(seed: rows, rows));
                    using var response = await model.InferAsync(request, CancellationToken.None);
                    Assert.Equal([rows, 1L], response.Outputs[0]!.Shape);
                }
            }

            Assert.InRange(model.BoundIdleBytes, 1, 4L << 20);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task Infer_OfAModelWhoseOutputShapeDependsOnTheData_AnswersEveryRequestCorrectly()
    {
        var models = GeneratedModels.Repository(("nonzero", 1, OnnxModelBuilder.NonZeroIndices(), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);

            // Three values with two non-zero, then three with three: same input shape, a different output
            // shape, which a binding learned from the first cannot hold.
            foreach (var (values, expected) in new (float[], long[])[] { ([1, 0, 2], [0, 2]), ([1, 2, 3], [0, 1, 2]), ([0, 0, 5], [2]), ([4, 0, 6], [0, 2]) })
            {
                var outputs = await V2Client.InferJsonAsync(agent.Http, "nonzero", [NamedTensor.Floats("x", [values.Length], values)]);
                Assert.Equal([expected.Length, 1L], outputs[0].Shape);
                Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(outputs[0].Data).ToArray());
            }
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    private static InferenceRequest Request(PinnedBufferPool pool, NamedTensor tensor)
    {
        var request = new InferenceRequest(1);
        var buffer = TensorBuffer.Rent(pool, tensor.Name, tensor.Type, tensor.Shape, tensor.Data.Length);
        tensor.Data.CopyTo(buffer.Span);
        request.Inputs[0] = buffer;
        return request;
    }
}
