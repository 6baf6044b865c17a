using System.Security.Cryptography;
using EdgeInference.Runtime.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Optimization.Verification;

/// <summary>
/// Runs a reference model and a candidate (a conversion or a quantization of it) with ONNX Runtime on the same inputs and
/// measures how far apart they answer. Inputs are the files of a folder, in name order: <c>*.npy</c> files, each the one
/// input of a single-input model, or sub-folders of <c>&lt;input name&gt;.npy</c> files, one per input. Outputs are
/// compared by position (a converted model may name them differently).
/// </summary>
public static class ModelComparer
{
    public static VerificationReport Compare(string reference, string candidate, string inputs, VerificationGates gates)
    {
        ArgumentNullException.ThrowIfNull(gates);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var referenceSession = Open(reference, options);
        using var candidateSession = Open(candidate, options);
        if (referenceSession.InputMetadata.Count != candidateSession.InputMetadata.Count || referenceSession.OutputMetadata.Count != candidateSession.OutputMetadata.Count)
        {
            throw new InvalidDataException(
                $"the candidate has {candidateSession.InputMetadata.Count} inputs and {candidateSession.OutputMetadata.Count} outputs, the reference {referenceSession.InputMetadata.Count} and {referenceSession.OutputMetadata.Count}");
        }

        var inputNames = referenceSession.InputMetadata.Keys.ToArray();
        var samples = Samples(inputs, inputNames);
        var outputs = referenceSession.OutputMetadata.Keys.Zip(candidateSession.OutputMetadata.Keys).Select(p => new Accumulator(p.First, p.Second)).ToArray();
        foreach (var (source, tensors) in samples)
        {
            // In the reference's input order: the candidate's inputs are matched by position, as its outputs are.
            var ordered = inputNames.Select(name => tensors[name]).ToArray();
            var ours = Run(referenceSession, ordered, source);
            var theirs = Run(candidateSession, ordered, source);
            for (var i = 0; i < outputs.Length; i++)
            {
                if (ours[i].Length != theirs[i].Length)
                {
                    throw new InvalidDataException($"{source}: output {i} has {theirs[i].Length} values from the candidate, {ours[i].Length} from the reference");
                }

                outputs[i].Add(ours[i], theirs[i], gates.Threshold);
            }
        }

        var report = new VerificationReport
        {
            Reference = Path.GetFileName(reference), ReferenceSha256 = Sha256(reference), Candidate = Path.GetFileName(candidate), CandidateSha256 = Sha256(candidate),
            Inputs = samples.Count, Threshold = gates.Threshold, Outputs = [.. outputs.Select(o => o.Result())],
        };
        void Gate(string name, double? limit, Func<OutputComparison, double> measure, bool atMost)
        {
            if (limit is not { } bound)
            {
                return;
            }

            var worst = atMost ? report.Outputs.Max(measure) : report.Outputs.Min(measure);
            report.Gates.Add(new GateVerdict { Gate = name, Limit = bound, Measured = worst, Passed = atMost ? worst <= bound : worst >= bound });
        }

        Gate("max_abs_diff", gates.MaxAbsDiff, o => o.MaxAbsDiff, atMost: true);
        Gate("min_cosine", gates.MinCosine, o => o.MinCosine, atMost: false);
        Gate("min_agreement", gates.MinAgreement, o => o.Agreement, atMost: false);
        report.Passed = report.Gates.All(g => g.Passed);
        return report;
    }

    private static InferenceSession Open(string path, SessionOptions options)
    {
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it: {ex.Message}", ex);
        }
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Every input sample of the folder, as named float tensors.</summary>
    private static List<(string Source, Dictionary<string, (long[] Shape, float[] Data)> Tensors)> Samples(string folder, string[] inputNames)
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

    private static float[][] Run(InferenceSession session, (long[] Shape, float[] Data)[] tensors, string source)
    {
        var names = session.InputMetadata.Keys.ToArray();
        var values = new List<OrtValue>();
        try
        {
            foreach (var (shape, data) in tensors)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            }

            using var run = new RunOptions();
            using var outputs = session.Run(run, names, values, session.OutputMetadata.Keys.ToArray());
            return [.. outputs.Select(o => o.GetTensorDataAsSpan<float>().ToArray())];
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{source}: {ex.Message}", ex);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>One output's differences, gathered input by input.</summary>
    private sealed class Accumulator(string reference, string candidate)
    {
        private readonly List<double> _differences = [];
        private double _minCosine = 1;
        private int _agreed;
        private int _inputs;
        private int _positives;
        private int _kept;
        private bool _score = true;

        public void Add(float[] expected, float[] actual, double threshold)
        {
            _inputs++;
            double dot = 0, ne = 0, na = 0;
            for (var i = 0; i < expected.Length; i++)
            {
                _differences.Add(Math.Abs((double)actual[i] - expected[i]));
                dot += (double)expected[i] * actual[i];
                ne += (double)expected[i] * expected[i];
                na += (double)actual[i] * actual[i];
            }

            _minCosine = Math.Min(_minCosine, ne == 0 && na == 0 ? 1 : dot / Math.Sqrt(ne * na));
            if (expected.Length == 1)
            {
                bool want = expected[0] >= threshold, got = actual[0] >= threshold;
                _agreed += want == got ? 1 : 0;
                _positives += want ? 1 : 0;
                _kept += want && got ? 1 : 0;
            }
            else
            {
                _score = false;
                _agreed += ArgMax(expected) == ArgMax(actual) ? 1 : 0;
            }
        }

        public OutputComparison Result()
        {
            _differences.Sort();
            return new OutputComparison
            {
                Reference = reference, Candidate = candidate, MaxAbsDiff = _differences[^1], MinCosine = Math.Round(_minCosine, 9),
                P99AbsDiff = _differences[(int)Math.Min(_differences.Count - 1, Math.Ceiling(0.99 * _differences.Count) - 1)],
                Agreement = (double)_agreed / _inputs,
                ReferencePositives = _score ? _positives : null,
                PositivesKept = _score && _positives > 0 ? (double)_kept / _positives : null,
            };
        }

        private static int ArgMax(float[] values)
        {
            var best = 0;
            for (var i = 1; i < values.Length; i++)
            {
                best = values[i] > values[best] ? i : best;
            }

            return best;
        }
    }
}
