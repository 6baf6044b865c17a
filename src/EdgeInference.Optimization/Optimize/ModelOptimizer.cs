using System.Globalization;
using System.Security.Cryptography;
using EdgeInference.Optimization.Import;
using EdgeInference.Optimization.Quantization;
using EdgeInference.Optimization.Tflite;
using EdgeInference.Optimization.Verification;
using EdgeInference.Packaging;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Optimization.Optimize;

/// <summary>
/// <c>edgefleet models optimize</c>: imports a TFLite model when given one, quantizes the float model every way in
/// <see cref="OptimizationOptions.Variants"/>, checks each against the float model on held-out inputs with the gates
/// given and times it on this CPU, and keeps the smallest that passes every gate without being slower than float (the
/// more accurate of two the same size). The
/// golden vectors it writes are the float model's answers on held-out inputs, with the tolerance the kept variant
/// showed, so that a device checks the same accuracy again before it switches; its drift profile is the kept model's
/// features on the calibration inputs.
/// </summary>
public static class ModelOptimizer
{
    public static async Task<OptimizedPackage> OptimizeAsync(string source, string calibration, string heldOut, OptimizationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var gates = options.Gates;
        if (gates.MaxAbsDiff is null && gates.MaxP99AbsDiff is null && gates.MinCosine is null && gates.MinAgreement is null && gates.MinPositivesKept is null)
        {
            throw new ArgumentException("optimize keeps only a variant that passes accuracy gates: give at least one (--min-agreement, --min-positives-kept, --max-p99-diff, --max-abs-diff, --min-cosine)");
        }

        if (options.Variants.Count == 0)
        {
            throw new ArgumentException("there is no quantization variant to try");
        }

        if (!File.Exists(source))
        {
            throw new IOException($"the model {source} does not exist");
        }

        var bytes = File.ReadAllBytes(source);
        var work = Directory.CreateTempSubdirectory("edgefleet-optimize-").FullName;
        try
        {
            var report = new OptimizationReport { Source = Path.GetFileName(source), SourceSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
            var reference = source;
            if (TfliteModel.Recognizes(bytes))
            {
                var (onnx, import) = TfliteImporter.Import(TfliteModel.Parse(bytes), Path.GetFileNameWithoutExtension(source));
                reference = Path.Combine(work, "float.onnx");
                File.WriteAllBytes(reference, onnx.ToByteArray());
                import.Source = report.Source;
                import.SourceSha256 = report.SourceSha256;
                import.Output = "float.onnx";
                import.OutputSha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(reference)));
                report.Import = import;
            }

            var answers = new ReferenceAnswers(reference, heldOut);
            var inputNames = answers.InputNames;
            var heldOutSamples = answers.Samples;
            var timed = inputNames.Select(name => heldOutSamples[0].Tensors[name]).ToArray();
            report.FloatBytes = new FileInfo(reference).Length;
            report.FloatLatencyMicroseconds = LatencyMeter.MedianMicroseconds(reference, timed, heldOutSamples[0].Source);
            report.HeldOutInputs = heldOutSamples.Count;

            var written = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var calibrationSet = new CalibrationSet(calibration);
            foreach (var variant in options.Variants)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var quantized = ModelQuantizer.Quantize(reference, calibrationSet, new QuantizationOptions { Mode = variant.Mode, Method = variant.Method, PerChannel = variant.PerChannel, Exclude = options.Exclude });
                var path = Path.Combine(work, $"{variant.Name}.onnx");
                File.WriteAllBytes(path, quantized.Bytes);
                written[variant.Name] = quantized.Bytes;
                report.CalibrationInputs = Math.Max(report.CalibrationInputs, quantized.Report.CalibrationInputs);
                var verification = ModelComparer.Compare(answers, path, gates);
                var latency = LatencyMeter.MedianMicroseconds(path, timed, heldOutSamples[0].Source);
                var result = new VariantReport
                {
                    Name = variant.Name, Bytes = quantized.Bytes.Length, SizeRatio = quantized.Report.SizeRatio, LatencyMicroseconds = latency,
                    Speedup = Math.Round(report.FloatLatencyMicroseconds / latency, 3), QuantizedNodes = quantized.Report.Quantized.Values.Sum(), Verification = verification,
                };
                var failures = verification.Gates.Where(g => !g.Passed)
                    .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Gate} {g.Measured:G4} (limit {g.Limit:G4})")).ToList();
                if (result.QuantizedNodes == 0)
                {
                    failures.Add("it quantizes no node");
                }

                if (latency > report.FloatLatencyMicroseconds)
                {
                    failures.Add(string.Create(CultureInfo.InvariantCulture, $"slower than float ({latency:0.#} µs against {report.FloatLatencyMicroseconds:0.#} µs)"));
                }

                result.Passed = failures.Count == 0;
                result.Failure = result.Passed ? null : string.Join("; ", failures);
                report.Variants.Add(result);
            }

            // Variants of one mode often have the same size: the tie goes to the more accurate, never to a timing, so
            // the same inputs keep the same variant (speed decides only whether a variant is slower than float).
            var chosen = report.Variants.Where(v => v.Passed).OrderBy(v => v.Bytes).ThenBy(v => v.Verification.Outputs.Max(o => o.P99AbsDiff))
                .ThenBy(v => v.Verification.Outputs.Max(o => o.MaxAbsDiff)).FirstOrDefault();
            if (chosen is null)
            {
                return new OptimizedPackage(null, null, null, report);
            }

            report.Chosen = chosen.Name;
            report.OutputSha256 = Convert.ToHexStringLower(SHA256.HashData(written[chosen.Name]));
            report.GoldenTolerance = chosen.Verification.Outputs.Max(o => o.MaxAbsDiff);
            var golden = Golden(answers, options.GoldenCases, report.GoldenTolerance.Value);
            var profile = await ReferenceProfile.BuildAsync(written[chosen.Name], Path.GetFileNameWithoutExtension(source), calibrationSet.Samples(inputNames), options.Time, cancellationToken).ConfigureAwait(false);
            return new OptimizedPackage(written[chosen.Name], golden, profile, report);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Golden vectors from the float model: the held-out inputs with the highest first score (a detector's positives,
    /// where quantization is most at stake) and others spread evenly over the set.
    /// </summary>
    private static GoldenSet Golden(ReferenceAnswers answers, int count, double tolerance)
    {
        var (samples, outputs, names) = (answers.Samples, answers.Outputs, answers.InputNames);
        var strongest = Enumerable.Range(0, samples.Count).OrderByDescending(i => outputs[i][0].DefaultIfEmpty(0).Max()).ThenBy(i => i).Take(count / 4);
        var spread = Enumerable.Range(0, count).Select(i => (int)((long)i * samples.Count / count));
        var chosen = strongest.Concat(spread).Distinct().Take(count).Order().ToList();
        var golden = new GoldenSet { AbsoluteTolerance = Math.Max(tolerance, 1e-6), RelativeTolerance = 0 };
        foreach (var i in chosen)
        {
            golden.Cases.Add(new GoldenCase
            {
                Name = Path.GetFileName(samples[i].Source),
                Inputs = [.. names.Select(n => Tensor(n, samples[i].Tensors[n].Shape, samples[i].Tensors[n].Data))],
                Expected = [.. answers.OutputNames.Select((n, o) => Tensor(n, Shape(answers.OutputShapes[o], outputs[i][o].Length), outputs[i][o]))],
            });
        }

        return golden;
    }

    /// <summary>An output's shape, its free dimensions filled so that it holds <paramref name="count"/> values (a batch of one).</summary>
    private static long[] Shape(long[] declared, int count)
    {
        var known = declared.Where(d => d > 0).Aggregate(1L, (a, b) => a * b);
        var free = declared.Count(d => d <= 0);
        return [.. declared.Select(d => d > 0 ? d : free == 1 ? count / Math.Max(1, known) : 1)];
    }

    private static GoldenTensor Tensor(string name, long[] shape, float[] data) =>
        new() { Name = name, Datatype = "FP32", Shape = [.. shape], Data = [.. data.Select(v => (double)v)] };
}
