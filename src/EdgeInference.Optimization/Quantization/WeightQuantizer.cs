namespace EdgeInference.Optimization.Quantization;

/// <summary>A float weight as symmetric int8 (zero point 0), one scale per slice along an axis, or one for the whole tensor.</summary>
internal static class WeightQuantizer
{
    /// <param name="axis">The channel axis, or −1 for one scale.</param>
    public static (byte[] Values, float[] Scales) Quantize(float[] data, long[] dims, int axis)
    {
        var channels = axis < 0 ? 1 : (int)dims[axis];
        var inner = axis < 0 ? data.Length : (int)dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        var outer = data.Length / (channels * inner);
        var (qmin, qmax) = QuantizationMath.Range(QuantizedType.S8, symmetric: true);
        var scales = new float[channels];
        var values = new byte[data.Length];
        for (var c = 0; c < channels; c++)
        {
            // Channel c: every run of `inner` values, at a stride of channels × inner.
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            for (var o = 0; o < outer; o++)
            {
                foreach (var v in data.AsSpan(((o * channels) + c) * inner, inner))
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
            }

            var parameters = QuantizationMath.Parameters(min, max, qmin, qmax, symmetric: true);
            scales[c] = parameters.Scale;
            for (var o = 0; o < outer; o++)
            {
                var start = ((o * channels) + c) * inner;
                for (var i = start; i < start + inner; i++)
                {
                    values[i] = (byte)(sbyte)QuantizationMath.Quantize(data[i], parameters, QuantizedType.S8);
                }
            }
        }

        return (values, scales);
    }
}
