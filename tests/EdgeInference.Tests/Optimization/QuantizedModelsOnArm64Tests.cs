using EdgeInference.Optimization.Quantization;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using Xunit.Abstractions;

namespace EdgeInference.Tests.Optimization;

/// <summary>
/// Quantized models on the other CPU the agent ships for: the Native AOT arm64 agent under qemu-user runs ONNX
/// Runtime's arm64 integer kernels, and must answer as bare ONNX Runtime does on x64, to within one step of the
/// output's quantization.
/// </summary>
public sealed class QuantizedModelsOnArm64Tests(WakeWordSpeechFixture speech, ITestOutputHelper output) : IClassFixture<WakeWordSpeechFixture>, IDisposable
{
    private readonly string _models = TestPaths.NewTempDirectory("arm64-int8-models");
    private readonly string _data = TestPaths.NewTempDirectory("arm64-int8-data");

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task QuantizedModels_ServedByTheArm64AgentUnderQemu_AnswerAsBareOnnxRuntimeOnX64()
    {
        var jarvis = Write("hey_jarvis", ModelQuantizer.Quantize(WakeWordSpeechFixture.Model("hey_jarvis"), speech.CalibrationClassifier, new QuantizationOptions { PerChannel = true }));
        var embedding = ModelQuantizer.Quantize(WakeWordSpeechFixture.Model("embedding"), speech.CalibrationEmbedding, new QuantizationOptions { PerChannel = true, Method = CalibrationMethod.Entropy });
        Write("embedding", embedding);
        var port = FreePort.Next();
        using var agent = AgentProcess.StartArm64UnderQemu(_models, _data, port);
        await agent.WaitUntilReadyAsync(TimeSpan.FromSeconds(180));

        // The embedding's output is quantized (ONNX Runtime has no integer Conv with a float output): one step of it.
        var step = embedding.Report.Tensors.Single(t => t.Name == "model/conv2d_19/Conv2D:0").Scale;
        foreach (var (model, inputs, tolerance) in new[] { ("hey_jarvis", speech.HeldOutClassifier, 1e-4f), ("embedding", speech.HeldOutEmbedding, step * 1.01f) })
        {
            using var reference = new BareOrt(Path.Combine(_models, model, "1", "model.onnx"));
            var name = reference.Session.InputMetadata.Keys.Single();
            var worst = 0f;
            foreach (var file in Directory.GetFiles(inputs).Order(StringComparer.Ordinal).Take(6))
            {
                var (_, shape, data) = NpyFile.Read(await File.ReadAllBytesAsync(file));
                NamedTensor[] request = [new NamedTensor(name, TensorDataType.Fp32, shape, data)];
                var expected = reference.Run(request)[0].AsFloats();
                var actual = (await V2Client.InferJsonAsync(agent.Http, model, request))[0].AsFloats();
                Assert.Equal(expected.Length, actual.Length);
                worst = Math.Max(worst, expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)));
            }

            output.WriteLine($"{model}: arm64 under qemu against x64, max |Δ| {worst:G4} (allowed {tolerance:G4})");
            Assert.InRange(worst, 0, tolerance);
        }

        Assert.Equal(0, await agent.TerminateAsync(TimeSpan.FromSeconds(60)));
    }

    private string Write(string model, QuantizedModel quantized)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_models, model, "1")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), quantized.Bytes);
        return folder;
    }
}
