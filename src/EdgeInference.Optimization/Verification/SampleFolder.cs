using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Optimization.Verification;

/// <summary>
/// A folder of model inputs, as verification and calibration read it: the files of the folder in name order,
/// <c>*.npy</c> files, each the one input of a single-input model, or sub-folders of <c>&lt;input name&gt;.npy</c>
/// files, one per input.
/// </summary>
internal static class SampleFolder
{
    /// <summary>Every input sample of the folder, as named float tensors.</summary>
    public static List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> Read(string folder, string[] inputNames)
    {
        if (!Directory.Exists(folder))
        {
            throw new IOException($"the inputs folder {folder} does not exist");
        }

        var samples = new List<(string, Dictionary<string, (long[], float[])>)>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
        {
            if (Directory.Exists(entry))
            {
                samples.Add((entry, inputNames.ToDictionary(name => name, name => Float(Path.Combine(entry, name + ".npy"), $"{entry}: input '{name}'"), StringComparer.Ordinal)));
            }
            else if (entry.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                if (inputNames.Length != 1)
                {
                    throw new InvalidDataException($"{entry}: a bare .npy file is the one input of a single-input model, but the model has {inputNames.Length} ({string.Join(", ", inputNames)}): give a folder of <input name>.npy per sample");
                }

                samples.Add((entry, new Dictionary<string, (long[], float[])>(StringComparer.Ordinal) { [inputNames[0]] = Float(entry, entry) }));
            }
        }

        return samples.Count > 0 ? samples : throw new IOException($"the inputs folder {folder} has no .npy files or sample folders");
    }

    private static (long[] Shape, float[] Data) Float(string file, string what)
    {
        if (!File.Exists(file))
        {
            throw new IOException($"{what}: {file} does not exist");
        }

        (TensorDataType Type, long[] Shape, byte[] Data) npy;
        try
        {
            npy = NpyFile.Read(File.ReadAllBytes(file));
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException($"{what}: {ex.Message}", ex);
        }

        return npy.Type == TensorDataType.Fp32
            ? (npy.Shape, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(npy.Data).ToArray())
            : throw new InvalidDataException($"{what}: the file holds {npy.Type}; verification takes float32 inputs so far");
    }
}
