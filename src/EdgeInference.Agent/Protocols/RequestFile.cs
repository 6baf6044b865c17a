using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Protocols;

/// <summary>Requests kept in files: a .json v2 infer request, or a .npy array as the input of a single-input model.</summary>
public static class RequestFile
{
    public static bool IsRequestFile(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <paramref name="bytes"/> read from <paramref name="path"/>; throws <see cref="FormatException"/> naming the file and the problem.</summary>
    public static InferenceRequest Read(string path, ReadOnlySpan<byte> bytes, ModelVersion model, PinnedBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                return V2InferRequestReader.Read(bytes, [], model, pool, out _);
            }

            if (model.Inputs.Count != 1)
            {
                throw new FormatException($"a .npy file fits only a single-input model; '{model.ModelName}' has {model.Inputs.Count} inputs");
            }

            var request = new InferenceRequest(1);
            request.Inputs[0] = ReadNpy(bytes, model.Inputs[0], pool);
            return request;
        }
        catch (Exception ex) when (ex is FormatException or InferenceException)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>A .npy array as the tensor of <paramref name="input"/> (checked against the model when it runs).</summary>
    public static TensorBuffer ReadNpy(ReadOnlySpan<byte> bytes, TensorSpec input, PinnedBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (type, shape, data) = NpyFile.Read(bytes);
        var tensor = TensorBuffer.Rent(pool, input.Name, type, shape, data.Length);
        data.CopyTo(tensor.Span);
        return tensor;
    }
}
