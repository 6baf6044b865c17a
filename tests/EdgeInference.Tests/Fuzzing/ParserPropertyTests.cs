using System.Text;
using CsCheck;
using EdgeInference.Agent.Grpc;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Agent.Protocols;
using EdgeInference.Agent.Updates;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Configuration;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Fuzzing;
using EdgeInference.Testing.Onnx;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Tests.Fuzzing;

/// <summary>
/// R8: property tests (CsCheck) over every parser and reader, on generated valid inputs and on mutations of them.
/// Valid inputs read back exactly; anything else is refused with the parser's own error naming the problem, never any
/// other exception (which would be a 500, a crash or a message nobody can act on). <c>EDGE_FUZZ_ITERATIONS</c> sets the
/// samples per property (2 000 by default); a failure prints the seed that replays it.
/// </summary>
public sealed class ParserPropertyTests : IAsyncLifetime
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("EDGE_FUZZ_ITERATIONS"), out var iterations) ? iterations : 2000;

    private static readonly Gen<Mutations.Step[]> Steps =
        Gen.Select(Gen.Int[0, 5], Gen.Double[0, 1], Gen.Int[0, 64], Gen.Int[0, 1000], Gen.Byte, (kind, at, length, token, value) => new Mutations.Step(kind, at, length, token, value))
            .Array[1, 4];

    private string _models = "";
    private AgentHost _agent = null!;

    public async Task InitializeAsync()
    {
        _models = GeneratedModels.Repository(
            ("floats", 1, OnnxModelBuilder.Identity(TensorDataType.Fp32, [-1, -1]), null),
            ("strings", 1, OnnxModelBuilder.Identity(TensorDataType.Bytes, [-1]), null),
            ("longs", 1, OnnxModelBuilder.Identity(TensorDataType.Int64, [-1, 3]), null));
        _agent = await AgentHost.StartAsync(_models);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public void TheV2JsonReader_ReadsGeneratedTensorsExactly()
    {
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 6], Gen.Float.Array[24]).Sample((rows, columns, values) =>
        {
            var data = values.Take(rows * columns).Select(v => float.IsFinite(v) ? v : 0f).ToArray();
            var json = Encoding.UTF8.GetBytes(V2Client.JsonRequest([NamedTensor.Floats("x", [rows, columns], data)]));
            WithModel("floats", (model, pool) =>
            {
                using var request = V2InferRequestReader.Read(json, [], model, pool, out _);
                Assert.Equal([rows, columns], request.Inputs[0]!.Shape);
                Assert.Equal(data, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(request.Inputs[0]!.Span).ToArray());
            });
        }, iter: Iterations / 4, threads: 1);
    }

    [Fact]
    public void TheV2JsonReader_OnMutatedRequests_ReadsThemOrNamesTheProblem()
    {
        byte[][] seeds =
        [
            .. new[]
            {
                """{"id":"1","inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5,6]}],"outputs":[{"name":"y"}]}""",
                """{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[[1.5e3,-0.25]],"parameters":{}}],"parameters":{"binary_data_output":true}}""",
                """{"inputs":[{"name":"x","datatype":"BYTES","shape":[2],"data":["a","\u00e9"]}]}""",
                """{"inputs":[{"name":"x","datatype":"INT64","shape":[1,3],"data":[9223372036854775807,-1,0]}]}""",
            }.Select(Encoding.UTF8.GetBytes),
        ];
        string[] models = ["floats", "floats", "strings", "longs"];
        Gen.Select(Gen.Int[0, seeds.Length - 1], Steps).Sample((seed, steps) =>
        {
            var body = Mutations.Apply(seeds[seed], steps);
            WithModel(models[seed], (model, pool) => ExpectOnly<InferenceException>(() =>
            {
                using var request = V2InferRequestReader.Read(body, [], model, pool, out _);
            }));
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void TheTfServingCodec_OnMutatedRequests_ReadsThemOrNamesTheProblem()
    {
        byte[][] seeds =
        [
            .. new[]
            {
                """{"instances":[[1,2,3],[4,5,6]]}""", """{"inputs":{"x":[[0.5,1]]}}""", """{"signature_name":"serving_default","instances":[{"x":[1,2]}]}""",
                """{"instances":[{"b64":"aGVsbG8="},"plain"]}""",
            }.Select(Encoding.UTF8.GetBytes),
        ];
        string[] models = ["floats", "floats", "floats", "strings"];
        Gen.Select(Gen.Int[0, seeds.Length - 1], Steps).Sample((seed, steps) =>
        {
            var body = Mutations.Apply(seeds[seed], steps);
            WithModel(models[seed], (model, pool) => ExpectOnly<InferenceException>(() =>
            {
                using var request = TfServingCodec.Read(body, model, pool, out _);
            }));
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void TheGrpcWireReader_OnMutatedModelInferRequests_ReadsThemOrNamesTheProblem()
    {
        var raw = new ModelInferRequest { ModelName = "floats", Id = "7" };
        raw.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Shape = { 2, 2 } });
        raw.RawInputContents.Add(ByteString.CopyFrom(new byte[16]));
        raw.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "y" });
        var strings = new ModelInferRequest { ModelName = "strings" };
        strings.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "BYTES", Shape = { 1 } });
        strings.RawInputContents.Add(ByteString.CopyFrom([1, 0, 0, 0, (byte)'z']));
        byte[][] seeds = [raw.ToByteArray(), strings.ToByteArray()];
        Gen.Select(Gen.Int[0, seeds.Length - 1], Steps).Sample((seed, steps) =>
        {
            var message = Mutations.Apply(seeds[seed], steps);
            ExpectOnly<InferenceException>(() =>
            {
                if (GrpcTensorCodec.TryReadRawTarget(message, out _, out _))
                {
                    WithModel(seed == 0 ? "floats" : "strings", (model, pool) =>
                    {
                        using var request = GrpcTensorCodec.ReadRawRequest(message, model, pool);
                    });
                }
            });
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void TheManifestAndTrustCodecs_OnMutatedDocuments_ParseThemOrRefuseThemAsPackageRejections()
    {
        using var key = SigningKey.Generate();
        var manifest = ManifestCodec.Serialize(new PackageManifest
        {
            Name = "scorer", Version = "1.2.3", CreatedAt = DateTimeOffset.UnixEpoch, ExpiresAt = DateTimeOffset.UnixEpoch.AddDays(9), MinAgentVersion = "0.1.0",
            Files = [new PackageFile { Role = PackageRoles.Model, Path = "model.onnx", Size = 10, Sha256 = new string('a', 64) }],
        });
        var trust = Convert.FromBase64String(TrustCodec.Sign(new TrustDocument
        {
            Version = 3, ExpiresAt = DateTimeOffset.UnixEpoch.AddDays(9), RootKeys = [key.PublicKeyPem()], SigningKeys = [key.PublicKeyPem()], Floors = { ["m"] = "1.0.0" },
        }, key).Trust);
        Gen.Select(Gen.Bool, Steps).Sample((isTrust, steps) =>
        {
            var bytes = Mutations.Apply(isTrust ? trust : manifest, steps);
            ExpectOnly<PackageRejectedException>(() =>
            {
                if (isTrust)
                {
                    TrustCodec.Parse(new SignedTrust { Trust = Convert.ToBase64String(bytes) });
                }
                else
                {
                    ManifestCodec.Parse(bytes);
                }
            });
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void TheModelConfigReader_GoldenFiles_AndNpy_OnMutatedFiles_ReadThemOrNameTheProblem()
    {
        var config = Encoding.UTF8.GetBytes("""
            {"version_policy":{"latest":2},"execution_providers":["CPU"],"batching":{"max_batch_size":8,"max_queue_delay_microseconds":100,"max_queue_size":16},
             "warmup":{"iterations":1,"inputs":[{"name":"x","shape":[1,3],"value":0}]},"threads":{"intra_op":1,"inter_op":1},"cache":{"enabled":true,"max_entries":4,"max_bytes":1024}}
            """);
        var golden = FleetTestbed.GoldenVectors(OnnxModelBuilder.Mlp(3, [4]), 2);
        var npy = NpyFile.Write(TensorDataType.Fp32, [2, 2], new byte[16]);
        var folder = TestPaths.NewTempDirectory("golden-fuzz");
        var goldenPath = Path.Combine(folder, "golden.json");
        try
        {
            Gen.Select(Gen.Int[0, 2], Steps).Sample((which, steps) =>
            {
                switch (which)
                {
                    case 0:
                        ExpectOnly<ModelConfigException>(() => ModelConfigReader.Parse(Mutations.Apply(config, steps), "config.json"));
                        break;
                    case 1:
                        File.WriteAllBytes(goldenPath, Mutations.Apply(golden, steps));
                        ExpectOnly<PackageRejectedException>(() => GoldenRunner.Read(goldenPath));
                        break;
                    default:
                        ExpectOnly<FormatException>(() => NpyFile.Read(Mutations.Apply(npy, steps)));
                        break;
                }
            }, iter: Iterations, threads: 1);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheDeviceRegistry_OnMutatedDeviceMessages_NeverThrows_AndCountsWhatItDrops()
    {
        var folder = TestPaths.NewTempDirectory("registry-fuzz");
        using var store = new LiteDbFleetStore(Path.Combine(folder, "fleet.db"));
        var registry = new DeviceRegistry(store, TimeProvider.System, NullLogger<DeviceRegistry>.Instance);
        (string Topic, byte[] Payload)[] seeds =
        [
            ("edge/d1/status", Encoding.UTF8.GetBytes("""{"device_id":"d1","timestamp":"2026-11-29T12:00:00Z","state":"online","agent_version":"0.1.0","models":[{"model":"m","version":1,"package_version":"1.0.0","state":"READY","execution_provider":"CPU"}],"trust_version":2}""")),
            ("edge/d1/telemetry", Encoding.UTF8.GetBytes("""{"device_id":"d1","timestamp":"2026-11-29T12:00:00Z","window_seconds":10,"models":[{"model":"m","version":1,"package_version":"1.0.0","requests":10,"errors":1,"latency_ms":{"p50":1,"p95":2,"p99":3}}],"process":{},"device":{},"outbox":{}}""")),
            ("edge/d1/drift", Encoding.UTF8.GetBytes("""{"device_id":"d1","timestamp":"2026-11-29T12:00:00Z","model":"m","version":1,"requests":5,"features":[{"name":"x[0]","tensor":"x","psi":0.3,"drift":true}],"thresholds":{}}""")),
            ("edge/d1/replies/c1", Encoding.UTF8.GetBytes("""{"device_id":"d1","command_id":"c1","command":"deploy","state":"progress","step":"download","lines":["a"]}""")),
        ];
        try
        {
            var handled = 0L;
            Gen.Select(Gen.Int[0, seeds.Length - 1], Steps).Sample((seed, steps) =>
            {
                registry.Handle(seeds[seed].Topic, Mutations.Apply(seeds[seed].Payload, steps));
                handled++;
            }, iter: Iterations, threads: 1);
            Assert.InRange(registry.Dropped, 1, handled);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheRolloutParser_OnArbitraryText_ParsesOrNamesTheProblem()
    {
        var text = Gen.String[Gen.Char["0123456789.,%=<>!abcdefghijklmnopqrstuvwxyz_-+eE smhd:"], 0, 24];
        Gen.Select(Gen.Int[0, 3], text).Sample((which, value) => ExpectOnly<FormatException>(() =>
        {
            switch (which)
            {
                case 0: RolloutParser.ParseStages(value); break;
                case 1: RolloutParser.ParseGate(value); break;
                case 2: RolloutParser.ParseDuration(value, "soak"); break;
                default: RolloutParser.ParseSelector(value); break;
            }
        }), iter: Iterations, threads: 1);
    }

    /// <summary>Runs <paramref name="action"/>; it may succeed or throw <typeparamref name="TError"/> with a message, nothing else.</summary>
    private static void ExpectOnly<TError>(Action action)
        where TError : Exception
    {
        try
        {
            action();
        }
        catch (TError ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message), $"{typeof(TError).Name} without a message");
        }
    }

    private void WithModel(string name, Action<ModelVersion, PinnedBufferPool> action)
    {
        var model = _agent.Models.Acquire(name, null);
        try
        {
            action(model, _agent.App.Services.GetRequiredService<PinnedBufferPool>());
        }
        finally
        {
            model.Release();
        }
    }
}
