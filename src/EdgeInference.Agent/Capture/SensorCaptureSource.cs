using System.Buffers;
using System.Runtime.InteropServices;
using EdgeInference.Agent.Sensors;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Capture;

/// <summary>
/// Captures a window from a sensor (<c>sensor:NAME</c>) as the float32 input of a single-input model: samples × values,
/// shaped to the model's input (dynamic dimensions 1, or the one that makes the count fit).
/// </summary>
public sealed class SensorCaptureSource : ICaptureSource
{
    private readonly SensorHub _sensors;
    private readonly string _name;

    public SensorCaptureSource(SensorHub sensors, string name)
    {
        _sensors = sensors;
        _name = name;
    }

    public async ValueTask<InferenceRequest> CaptureAsync(ModelVersion model, PinnedBufferPool pool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Inputs is not [{ DataType: TensorDataType.Fp32 } input])
        {
            throw new FormatException($"sensor '{_name}' fills one float32 input; model '{model.ModelName}' has {model.Inputs.Count} inputs ({string.Join(", ", model.Inputs.Select(i => i.DataType))})");
        }

        var count = _sensors.WindowLength(_name);
        var shape = Fit(input.Shape, count)
            ?? throw new FormatException($"sensor '{_name}' gives {count} values a window; model '{model.ModelName}' input '{input.Name}' has shape [{string.Join(", ", input.Shape)}]");
        var values = ArrayPool<float>.Shared.Rent(count);
        try
        {
            await _sensors.ReadWindowAsync(_name, values, cancellationToken).ConfigureAwait(false);
            var request = new InferenceRequest(1);
            var tensor = TensorBuffer.Rent(pool, input.Name, TensorDataType.Fp32, shape, count * sizeof(float));
            MemoryMarshal.AsBytes(values.AsSpan(0, count)).CopyTo(tensor.Span);
            request.Inputs[0] = tensor;
            return request;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>
    /// <paramref name="shape"/> with its dynamic dimensions made 1, except the last dynamic one after the batch, which takes
    /// what makes <paramref name="count"/> values; null when no shape fits.
    /// </summary>
    public static long[]? Fit(long[] shape, long count)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var fitted = shape.Select(d => d < 0 ? 1 : d).ToArray();
        var product = fitted.Aggregate(1L, (a, b) => a * b);
        var free = Array.FindLastIndex(shape, d => d < 0);
        if (product != count && free >= 0 && (free > 0 || shape.Length == 1) && product > 0 && count % product == 0)
        {
            fitted[free] = count / product;
            product = count;
        }

        return product == count ? fitted : null;
    }
}
