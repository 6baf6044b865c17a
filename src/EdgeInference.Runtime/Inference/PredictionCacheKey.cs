using System.IO.Hashing;
using System.Runtime.InteropServices;
using EdgeInference.Runtime.Models;

namespace EdgeInference.Runtime.Inference;

/// <summary>
/// XxHash128 over the model version, the requested outputs, and every input's type, shape and bytes.
/// (Not a cryptographic hash: it needs no OpenSSL, which small device images may lack.)
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct PredictionCacheKey(ulong A, ulong B)
{
    public static PredictionCacheKey Compute(ModelVersion model, InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        var hash = new XxHash128();
        hash.Append(MemoryMarshal.AsBytes(model.ModelName.AsSpan()));
        Span<byte> scratch = stackalloc byte[16];
        BitConverter.TryWriteBytes(scratch, model.Version);
        hash.Append(scratch[..8]);
        hash.Append(MemoryMarshal.AsBytes(model.Fingerprint.AsSpan()));
        foreach (var requested in request.RequestedOutputs ?? [])
        {
            hash.Append([requested ? (byte)1 : (byte)0]);
        }

        foreach (var input in request.Inputs)
        {
            if (input is null)
            {
                continue;
            }

            BitConverter.TryWriteBytes(scratch, (int)input.DataType);
            BitConverter.TryWriteBytes(scratch[4..], input.Shape.Length);
            hash.Append(scratch[..8]);
            hash.Append(MemoryMarshal.AsBytes(input.Shape.AsSpan()));
            hash.Append(input.Span);
        }

        var value = hash.GetCurrentHashAsUInt128();
        return new PredictionCacheKey((ulong)(value >> 64), (ulong)value);
    }
}
