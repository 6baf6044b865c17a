using System.Runtime.InteropServices;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Drift;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Optimization.Optimize;

/// <summary>
/// The drift reference a package carries (<c>profile.json</c>): the kept model, loaded as the agent loads it, run on
/// the calibration inputs, with the agent's own drift features (<see cref="ModelDriftMonitor"/>), so a device compares
/// what it serves with what the model was calibrated on.
/// </summary>
internal static class ReferenceProfile
{
    public static async Task<DriftProfile> BuildAsync(
        byte[] model, string name, IReadOnlyList<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> samples, TimeProvider time, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("edgefleet-profile-").FullName;
        try
        {
            var version = Directory.CreateDirectory(Path.Combine(root, name, "1")).FullName;
            await File.WriteAllBytesAsync(Path.Combine(version, ModelRepository.ModelFileName), model, cancellationToken).ConfigureAwait(false);
            var onnxRuntime = new OnnxRuntimeEnvironment();
            var context = new ModelRuntimeContext(new PinnedBufferPool(), new ExecutionProviderSelector(onnxRuntime.AvailableProviders), time, NullLoggerFactory.Instance, onnxRuntime);
            using var repository = new ModelRepository(root, context);
            repository.Reconcile(name, cancellationToken);
            var served = repository.Acquire(name, null);
            try
            {
                served.DisableCache();
                var monitor = new ModelDriftMonitor(served, new DriftOptions { ReservoirSize = 1_000_000 }, time);
                foreach (var (source, tensors) in samples)
                {
                    using var request = new InferenceRequest(served.Inputs.Count);
                    foreach (var input in served.Inputs)
                    {
                        var (shape, data) = tensors[input.Name];
                        request.Inputs[input.Index] = TensorBuffer.Copy(input.Name, TensorDataType.Fp32, shape, MemoryMarshal.AsBytes(data.AsSpan()));
                    }

                    try
                    {
                        using var response = await served.InferAsync(request, cancellationToken).ConfigureAwait(false);
                        monitor.Observe(request.Inputs, response.Outputs);
                    }
                    catch (InferenceException ex)
                    {
                        throw new InvalidDataException($"{source}: {ex.Message}", ex);
                    }
                }

                var profile = monitor.BuildProfile();
                profile.Version = 0; // the package's version is given when it is pushed
                return profile;
            }
            finally
            {
                served.Release();
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
