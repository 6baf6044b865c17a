using EdgeInference.Agent.Protocols;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Gpio;

/// <summary>
/// Captures from a file: a .npy array (the input of a single-input model) or a .json v2 infer request, read afresh
/// at each trigger; given a folder, its newest such file (where a capture app drops its frames or clips).
/// </summary>
public sealed class FileCaptureSource : ICaptureSource
{
    private readonly string _path;

    public FileCaptureSource(string path)
    {
        _path = path;
    }

    public async ValueTask<InferenceRequest> CaptureAsync(ModelVersion model, PinnedBufferPool pool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = Directory.Exists(_path)
            ? new DirectoryInfo(_path).EnumerateFiles().Where(f => f.Extension is ".npy" or ".json").MaxBy(f => f.LastWriteTimeUtc)?.FullName
                ?? throw new FormatException($"the capture folder {_path} has no .npy or .json file")
            : _path;
        var bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        try
        {
            if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                return V2InferRequestReader.Read(bytes, [], model, pool, out _);
            }

            if (model.Inputs.Count != 1)
            {
                throw new FormatException($"a .npy capture fits only a single-input model; '{model.ModelName}' has {model.Inputs.Count} inputs: capture a .json request");
            }

            var (type, shape, data) = NpyFile.Read(bytes);
            var request = new InferenceRequest(1);
            var tensor = TensorBuffer.Rent(pool, model.Inputs[0].Name, type, shape, data.Length);
            data.CopyTo(tensor.Span);
            request.Inputs[0] = tensor;
            return request;
        }
        catch (Exception ex) when (ex is FormatException or InferenceException)
        {
            throw new FormatException($"{file}: {ex.Message}", ex);
        }
    }
}
