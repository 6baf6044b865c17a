using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EdgeInference.Runtime.Models;

namespace EdgeInference.Runtime.Inference;

/// <summary>SHA-256 over the model version, the requested outputs, and every input's type, shape and bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct PredictionCacheKey(ulong A, ulong B, ulong C, ulong D)
{
    public static PredictionCacheKey Compute(ModelVersion model, InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(model.ModelName));
        Span<byte> scratch = stackalloc byte[16];
        BitConverter.TryWriteBytes(scratch, model.Version);
        hash.AppendData(scratch[..8]);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(model.Fingerprint));
        foreach (var requested in request.RequestedOutputs ?? [])
        {
            hash.AppendData([requested ? (byte)1 : (byte)0]);
        }

        foreach (var input in request.Inputs)
        {
            if (input is null)
            {
                continue;
            }

            BitConverter.TryWriteBytes(scratch, (int)input.DataType);
            BitConverter.TryWriteBytes(scratch[4..], input.Shape.Length);
            hash.AppendData(scratch[..8]);
            hash.AppendData(MemoryMarshal.AsBytes(input.Shape.AsSpan()));
            hash.AppendData(input.Span);
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        var words = MemoryMarshal.Cast<byte, ulong>(digest);
        return new PredictionCacheKey(words[0], words[1], words[2], words[3]);
    }
}
