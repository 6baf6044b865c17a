using System.Runtime.InteropServices;
using EdgeInference.Contracts;
using EdgeInference.Runtime.Drift;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Optimization.Optimize;

/// <summary>
/// The drift reference a package carries (<c>profile.json</c>): the kept model, loaded as the agent loads it, run on
/// the calibration inputs, with the agent's own drift features (<see cref="DriftProfiler"/>), so a device compares
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
            var tensors = samples.ToDictionary(s => s.Source, s => s.Tensors, StringComparer.Ordinal);
            InferenceRequest Read(string source, ModelVersion served, PinnedBufferPool pool)
            {
                var request = new InferenceRequest(served.Inputs.Count);
                foreach (var input in served.Inputs)
                {
                    var (shape, data) = tensors[source][input.Name];
                    request.Inputs[input.Index] = TensorBuffer.Copy(input.Name, TensorDataType.Fp32, shape, MemoryMarshal.AsBytes(data.AsSpan()));
                }

                return request;
            }

            var profile = await DriftProfiler.BuildAsync(root, name, null, [.. samples.Select(s => s.Source)], Read, new DriftOptions { ReservoirSize = 1_000_000 }, time, cancellationToken).ConfigureAwait(false);
            profile.Version = 0; // the package's version is given when it is pushed
            return profile;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
