using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>32 concurrent clients each get their own right answer, with micro-batching on and off.</summary>
public sealed class ConcurrencyTests : IAsyncLifetime
{
    private const string BatchingConfig = """{ "batching": { "max_batch_size": 8, "max_queue_delay_microseconds": 2000 } }""";
    private const string BoundedConfig = """{ "batching": { "max_batch_size": 2, "max_queue_delay_microseconds": 200000, "max_queue_size": 4 } }""";
    private readonly byte[] _model = GeneratedModels.Mlp(seed: 3);
    private string _models = "";
    private AgentHost _agent = null!;
    private BareOrt _reference = null!;

    public async Task InitializeAsync()
    {
        _models = GeneratedModels.Repository(("mlp", 1, _model, null), ("mlp_batched", 1, _model, BatchingConfig), ("mlp_bounded", 1, _model, BoundedConfig));
        _agent = await AgentHost.StartAsync(_models);
        _reference = new BareOrt(Path.Combine(_models, "mlp", "1", "model.onnx"));
    }

    public async Task DisposeAsync()
    {
        _reference.Dispose();
        await _agent.DisposeAsync();
        Directory.Delete(_models, recursive: true);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("mlp_batched")]
    public async Task ThirtyTwoConcurrentClients_EachGetTheirOwnAnswer(string model)
    {
        var clients = Enumerable.Range(0, 32).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                var seed = (client * 100) + i;
                var inputs = new[] { GeneratedModels.Features(seed) };
                var expected = _reference.Run(inputs)[0].AsFloats()[0];
                var actual = i % 2 == 0
                    ? await V2Client.InferGrpcAsync(_agent.Grpc, model, inputs)
                    : await V2Client.InferJsonAsync(_agent.Http, model, inputs);
                // Batched matrix products may round differently in the last bits; unbatched ones are exact.
                var tolerance = model == "mlp" ? 0 : 1e-5f * Math.Max(1, Math.Abs(expected));
                Assert.InRange(actual[0].AsFloats()[0], expected - tolerance, expected + tolerance);
            }
        })).ToArray();
        await Task.WhenAll(clients);

        var metrics = await _agent.Http.GetStringAsync("/metrics");
        var runs = SampleModelOutputTests.MetricValue(metrics, $"edge_model_batch_size_count{{model=\"{model}\",version=\"1\"}}");
        var requests = SampleModelOutputTests.MetricValue(metrics, $"edge_model_requests_total{{model=\"{model}\",version=\"1\"}}");
        Assert.Equal(0, SampleModelOutputTests.MetricValue(metrics, $"edge_model_errors_total{{model=\"{model}\",version=\"1\"}}"));
        if (model == "mlp")
        {
            Assert.Equal(requests, runs); // one run each; warm-up runs are not counted
        }
        else
        {
            Assert.True(runs < requests * 0.75, $"{runs} runs for {requests} requests: requests were not batched");
        }
    }

    [Fact]
    public async Task ABurstBeyondTheBatchQueuesBound_IsRefusedAs503NamingTheBound_AndTheRestAreAnswered()
    {
        var body = V2Client.JsonRequest([GeneratedModels.Features(1)]);
        var burst = await Task.WhenAll(Enumerable.Range(0, 48).Select(async _ =>
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await _agent.Http.PostAsync(new Uri("/v2/models/mlp_bounded/infer", UriKind.Relative), content);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }));

        var refused = burst.Where(r => r.Item1 == 503).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Contains("has 4 requests queued, its batching.max_queue_size; retry later", r.Item2, StringComparison.Ordinal));
        Assert.Equal(48, refused.Count + burst.Count(r => r.Item1 == 200));
        Assert.NotEmpty(await V2Client.InferJsonAsync(_agent.Http, "mlp_bounded", [GeneratedModels.Features(2)]));
    }

    [Fact]
    public async Task BatchedRequest_WithSeveralRows_IsSplitBackToItsOwnRows()
    {
        var inputs = new[] { GeneratedModels.Features(seed: 77, rows: 3) };
        var expected = _reference.Run(inputs)[0].AsFloats();
        var tasks = Enumerable.Range(0, 6).Select(_ => V2Client.InferGrpcAsync(_agent.Grpc, "mlp_batched", inputs)).ToArray();
        foreach (var result in await Task.WhenAll(tasks))
        {
            Assert.Equal([3L, 1], result[0].Shape);
            var actual = result[0].AsFloats();
            for (var i = 0; i < 3; i++)
            {
                Assert.InRange(actual[i], expected[i] - 1e-5f, expected[i] + 1e-5f);
            }
        }
    }
}
