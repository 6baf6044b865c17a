using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Optimization.Verification;

/// <summary>
/// Runs a reference model and a candidate (a conversion or a quantization of it) with ONNX Runtime on the same inputs
/// (a <see cref="SampleFolder"/>) and measures how far apart they answer. Outputs are compared by position (a converted
/// model may name them differently).
/// </summary>
public static class ModelComparer
{
    public static VerificationReport Compare(string reference, string candidate, string inputs, VerificationGates gates) =>
        Compare(new ReferenceAnswers(reference, inputs), candidate, gates);

    /// <summary>Compares <paramref name="candidate"/> with answers of the reference computed once.</summary>
    internal static VerificationReport Compare(ReferenceAnswers reference, string candidate, VerificationGates gates)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(gates);
        using var candidateSession = Open(candidate);
        if (reference.InputNames.Length != candidateSession.InputMetadata.Count || reference.OutputNames.Length != candidateSession.OutputMetadata.Count)
        {
            throw new InvalidDataException(
                $"the candidate has {candidateSession.InputMetadata.Count} inputs and {candidateSession.OutputMetadata.Count} outputs, the reference {reference.InputNames.Length} and {reference.OutputNames.Length}");
        }

        var samples = reference.Samples;
        var outputs = reference.OutputNames.Zip(candidateSession.OutputMetadata.Keys).Select(p => new Accumulator(p.First, p.Second)).ToArray();
        for (var s = 0; s < samples.Count; s++)
        {
            // In the reference's input order: the candidate's inputs are matched by position, as its outputs are.
            var (source, tensors) = samples[s];
            var ours = reference.Outputs[s];
            var theirs = Run(candidateSession, [.. reference.InputNames.Select(name => tensors[name])], source);
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
            Reference = Path.GetFileName(reference.Model), ReferenceSha256 = reference.Sha256, Candidate = Path.GetFileName(candidate), CandidateSha256 = Sha256(candidate),
            Inputs = samples.Count, Threshold = gates.Threshold, Outputs = [.. outputs.Select(o => o.Result())],
        };
        void Gate(string name, double? limit, Func<OutputComparison, double?> measure, bool atMost)
        {
            var measured = report.Outputs.Select(measure).OfType<double>().ToList();
            if (limit is not { } bound || measured.Count == 0)
            {
                return;
            }

            var worst = atMost ? measured.Max() : measured.Min();
            report.Gates.Add(new GateVerdict { Gate = name, Limit = bound, Measured = worst, Passed = atMost ? worst <= bound : worst >= bound });
        }

        Gate("max_abs_diff", gates.MaxAbsDiff, o => o.MaxAbsDiff, atMost: true);
        Gate("max_p99_abs_diff", gates.MaxP99AbsDiff, o => o.P99AbsDiff, atMost: true);
        Gate("min_cosine", gates.MinCosine, o => o.MinCosine, atMost: false);
        Gate("min_agreement", gates.MinAgreement, o => o.Agreement, atMost: false);
        Gate("min_positives_kept", gates.MinPositivesKept, o => o.PositivesKept, atMost: false);
        report.Passed = report.Gates.All(g => g.Passed);
        return report;
    }

    /// <summary>A session with every graph optimization, as the agent runs models; a file ONNX Runtime refuses is named.</summary>
    internal static InferenceSession Open(string path)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
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

    internal static float[][] Run(InferenceSession session, (long[] Shape, float[] Data)[] tensors, string source)
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

            if (expected.Length > 1)
            {
                _minCosine = Math.Min(_minCosine, ne == 0 || na == 0 ? (ne == na ? 1 : 0) : dot / Math.Sqrt(ne * na));
            }

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
                Reference = reference, Candidate = candidate, MaxAbsDiff = _differences[^1], MinCosine = _score ? null : Math.Round(_minCosine, 9),
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
