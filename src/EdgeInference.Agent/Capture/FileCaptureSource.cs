using EdgeInference.Agent.Protocols;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Capture;

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
        var file = Directory.Exists(_path)
            ? new DirectoryInfo(_path).EnumerateFiles().Where(f => RequestFile.IsRequestFile(f.Name)).MaxBy(f => f.LastWriteTimeUtc)?.FullName
                ?? throw new FormatException($"the capture folder {_path} has no .npy or .json file")
            : _path;
        var bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        return RequestFile.Read(file, bytes, model, pool);
    }
}
