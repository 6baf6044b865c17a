using System.Text.Json;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Optimization.Verification;

/// <summary>
/// A folder of model inputs, as verification and calibration read it (the formats <c>edge-agent profile</c> reads): the
/// entries of the folder in name order, <c>*.npy</c> files, each the one input of a single-input model;
/// <c>*.json</c> files, Open Inference Protocol v2 infer requests; or sub-folders of <c>&lt;input name&gt;.npy</c>
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
            else if (entry.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                samples.Add((entry, Request(entry, inputNames)));
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

        return samples.Count > 0 ? samples : throw new IOException($"the inputs folder {folder} has no .npy files, .json requests or sample folders");
    }

    /// <summary>An Open Inference Protocol v2 infer request (JSON): every input of the model, FP32, its data flat or nested.</summary>
    private static Dictionary<string, (long[] Shape, float[] Data)> Request(string file, string[] inputNames)
    {
        var tensors = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(file));
            if (!json.RootElement.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{file}: not an infer request: it has no \"inputs\" array");
            }

            foreach (var input in inputs.EnumerateArray())
            {
                var name = input.GetProperty("name").GetString() ?? "";
                var datatype = input.GetProperty("datatype").GetString();
                if (datatype != "FP32")
                {
                    throw new InvalidDataException($"{file}: input '{name}' is {datatype}; verification and calibration take FP32 inputs so far");
                }

                if (!input.TryGetProperty("data", out var data))
                {
                    throw new InvalidDataException($"{file}: input '{name}' has no \"data\" (binary tensor data is not read here)");
                }

                var shape = input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var values = new List<float>();
                Flatten(data, values);
                if (shape.Any(d => d < 0) || shape.Aggregate(1L, (a, b) => a * b) != values.Count)
                {
                    throw new InvalidDataException($"{file}: input '{name}' has {values.Count} values for shape [{string.Join(",", shape)}]");
                }

                tensors[name] = (shape, values.ToArray());
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"{file}: not an infer request: {ex.Message}", ex);
        }

        var missing = inputNames.Where(n => !tensors.ContainsKey(n)).ToList();
        return missing.Count == 0 ? tensors : throw new InvalidDataException($"{file}: the request lacks the model's input(s) {string.Join(", ", missing)}");
    }

    private static void Flatten(JsonElement element, List<float> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(element.GetSingle());
        }
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
