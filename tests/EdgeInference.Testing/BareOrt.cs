using System.Runtime.InteropServices;
using EdgeInference.Runtime.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Testing;

/// <summary>Runs a model with ONNX Runtime directly, with nothing of the agent in between: the reference for every output test.</summary>
public sealed class BareOrt : IDisposable
{
    private readonly InferenceSession _session;

    /// <param name="modelPath">The model file.</param>
    /// <param name="configure">Changes to ONNX Runtime's default session options (threads, spinning), if any.</param>
    public BareOrt(string modelPath, Action<SessionOptions>? configure = null)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        configure?.Invoke(options);
        _session = new InferenceSession(modelPath, options);
    }

    public InferenceSession Session => _session;

    public IReadOnlyList<NamedTensor> Run(IReadOnlyList<NamedTensor> inputs)
    {
        var handles = new List<GCHandle>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var input in inputs)
            {
                if (input.Type == TensorDataType.Bytes)
                {
                    var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, input.Shape);
                    var data = input.Data.AsSpan();
                    for (var i = 0; !data.IsEmpty; i++)
                    {
                        var length = BitConverter.ToInt32(data);
                        strings.StringTensorSetElementAt(data.Slice(4, length), i);
                        data = data[(4 + length)..];
                    }

                    values.Add(strings);
                    continue;
                }

                var handle = GCHandle.Alloc(input.Data, GCHandleType.Pinned);
                handles.Add(handle);
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, input.Type.ToOnnx(), input.Shape, handle.AddrOfPinnedObject(), input.Data.Length));
            }

            var outputNames = _session.OutputNames;
            using var results = _session.Run(new RunOptions(), inputs.Select(i => i.Name).ToArray(), values, outputNames);
            var outputs = new List<NamedTensor>();
            for (var i = 0; i < results.Count; i++)
            {
                var info = results[i].GetTensorTypeAndShape();
                TensorDataTypes.TryFromOnnx(info.ElementDataType, out var type);
                byte[] data;
                if (type == TensorDataType.Bytes)
                {
                    using var stream = new MemoryStream();
                    for (var e = 0; e < info.ElementCount; e++)
                    {
                        var element = results[i].GetStringElementAsSpan(e);
                        stream.Write(BitConverter.GetBytes(element.Length));
                        stream.Write(element);
                    }

                    data = stream.ToArray();
                }
                else
                {
                    data = results[i].GetTensorDataAsSpan<byte>().ToArray();
                }

                outputs.Add(new NamedTensor(outputNames[i], type!.Value, info.Shape, data));
            }

            return outputs;
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }

            foreach (var handle in handles)
            {
                handle.Free();
            }
        }
    }

    public void Dispose() => _session.Dispose();
}
