using System.Text;
using EdgeInference.Agent.Grpc;
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
using EdgeInference.Testing.Onnx;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Testing.Fuzzing;

/// <summary>
/// The entry points the coverage-guided fuzzer (SharpFuzz with afl++) drives, and the regression test replays: each
/// takes raw bytes and may succeed or refuse them with its parser's own error; any other exception is a finding.
/// Model-dependent readers run against identity models loaded in this process.
/// </summary>
public sealed class FuzzTargets : IDisposable
{
    public static readonly IReadOnlyList<string> Names =
        ["v2-json", "tf-serving", "grpc-wire", "manifest", "trust", "model-config", "golden", "npy", "device-status", "device-telemetry", "rollout-parser"];

    private readonly string _folder = TestPaths.NewTempDirectory("fuzz-targets");
    private readonly PinnedBufferPool _pool = new();
    private readonly ModelRepository _models;
    private readonly LiteDbFleetStore _store;
    private readonly DeviceRegistry _registry;

    public FuzzTargets()
    {
        var repository = Path.Combine(_folder, "models");
        OnnxModelBuilder.Write(Path.Combine(repository, "floats", "1"), OnnxModelBuilder.Identity(TensorDataType.Fp32, [-1, -1]));
        OnnxModelBuilder.Write(Path.Combine(repository, "strings", "1"), OnnxModelBuilder.Identity(TensorDataType.Bytes, [-1]));
        var onnxRuntime = new OnnxRuntimeEnvironment();
        var context = new ModelRuntimeContext(_pool, new ExecutionProviderSelector(onnxRuntime.AvailableProviders), TimeProvider.System, NullLoggerFactory.Instance, onnxRuntime);
        _models = new ModelRepository(repository, context);
        _models.Reconcile();
        _store = new LiteDbFleetStore(Path.Combine(_folder, "fleet.db"));
        _registry = new DeviceRegistry(_store, TimeProvider.System, NullLogger<DeviceRegistry>.Instance);
    }

    /// <summary>Feeds <paramref name="input"/> to <paramref name="target"/>; throws only when the target misbehaves.</summary>
    public void Run(string target, byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        switch (target)
        {
            case "v2-json":
                WithModel(input.Length % 2 == 0 ? "floats" : "strings", model => Refuses<InferenceException>(() =>
                {
                    using var request = V2InferRequestReader.Read(input, [], model, _pool, out _);
                }));
                break;
            case "tf-serving":
                WithModel(input.Length % 2 == 0 ? "floats" : "strings", model => Refuses<InferenceException>(() =>
                {
                    using var request = TfServingCodec.Read(input, model, _pool, out _);
                }));
                break;
            case "grpc-wire":
                Refuses<InferenceException>(() =>
                {
                    if (GrpcTensorCodec.TryReadRawTarget(input, out var name, out _) && name is "floats" or "strings")
                    {
                        WithModel(name, model =>
                        {
                            using var request = GrpcTensorCodec.ReadRawRequest(input, model, _pool);
                        });
                    }
                });
                break;
            case "manifest":
                Refuses<PackageRejectedException>(() => ManifestCodec.Parse(input));
                break;
            case "trust":
                Refuses<PackageRejectedException>(() => TrustCodec.Parse(new SignedTrust { Trust = Convert.ToBase64String(input) }));
                break;
            case "model-config":
                Refuses<ModelConfigException>(() => ModelConfigReader.Parse(input, "config.json"));
                break;
            case "golden":
                var path = Path.Combine(_folder, "golden.json");
                File.WriteAllBytes(path, input);
                Refuses<PackageRejectedException>(() => GoldenRunner.Read(path));
                break;
            case "npy":
                Refuses<FormatException>(() => NpyFile.Read(input));
                break;
            case "device-status":
                _registry.Handle("edge/d1/status", input);
                break;
            case "device-telemetry":
                _registry.Handle("edge/d1/telemetry", input);
                break;
            case "rollout-parser":
                var text = Encoding.UTF8.GetString(input);
                Refuses<FormatException>(() => RolloutParser.ParseStages(text));
                Refuses<FormatException>(() => RolloutParser.ParseGate(text));
                Refuses<FormatException>(() => RolloutParser.ParseDuration(text, "soak"));
                Refuses<FormatException>(() => RolloutParser.ParseSelector(text));
                break;
            default:
                throw new ArgumentException($"'{target}' is not a fuzz target ({string.Join(", ", Names)})", nameof(target));
        }
    }

    public void Dispose()
    {
        _models.Dispose();
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static void Refuses<TError>(Action action)
        where TError : Exception
    {
        try
        {
            action();
        }
        catch (TError ex) when (!string.IsNullOrWhiteSpace(ex.Message))
        {
            // A refusal naming the problem: what a bad input must get.
        }
    }

    private void WithModel(string name, Action<ModelVersion> action)
    {
        var model = _models.Acquire(name, null);
        try
        {
            action(model);
        }
        finally
        {
            model.Release();
        }
    }
}
