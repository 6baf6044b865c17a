namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// ONNX Runtime's quantization arithmetic (its Python tool's <c>quant_utils</c>), so that a model quantized here
/// holds the integers ONNX Runtime's tool would write: the same ranges, the same float widths at each step, and
/// numpy's rounding (half to even).
/// </summary>
public static class QuantizationMath
{
    /// <summary>The least normal float32 (numpy's <c>finfo(float32).tiny</c>): a smaller scale means an empty range.</summary>
    private const double Tiny = 1.1754943508222875e-38;

    /// <summary>The integer range used for <paramref name="type"/>: symmetric ranges leave out the lowest value, so that zero is in the middle.</summary>
    public static (int Min, int Max) Range(QuantizedType type, bool symmetric) => (type, symmetric) switch
    {
        (QuantizedType.U8, false) => (0, 255),
        (QuantizedType.U8, true) => (0, 254),
        (QuantizedType.S8, false) => (-128, 127),
        (QuantizedType.S8, true) => (-127, 127),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an 8-bit type"),
    };

    /// <summary>
    /// The scale and zero point that map <c>[rmin, rmax]</c> onto <c>[qmin, qmax]</c>. The range is widened to hold 0,
    /// so that 0 is exactly representable; symmetric ranges become <c>[−m, m]</c>, m the larger magnitude, with the zero
    /// point in the middle of the integer range. An empty range gives scale 1 and zero point 0.
    /// </summary>
    public static QuantizationParameters Parameters(float rmin, float rmax, int qmin, int qmax, bool symmetric)
    {
        if (qmin > 0 || qmax < 0 || qmin >= qmax)
        {
            throw new ArgumentOutOfRangeException(nameof(qmin), $"the integer range [{qmin}, {qmax}] must hold 0");
        }

        if (!float.IsFinite(rmin) || !float.IsFinite(rmax))
        {
            throw new ArgumentOutOfRangeException(nameof(rmin), $"the range [{rmin}, {rmax}] is not finite");
        }

        rmin = Math.Min(rmin, 0f);
        rmax = Math.Max(rmax, 0f);
        if (symmetric)
        {
            var magnitude = Math.Max(Math.Abs(rmin), Math.Abs(rmax));
            rmin = -magnitude;
            rmax = magnitude;
        }

        // As numpy computes it: the float32 difference, divided in float64.
        var scale = (double)(rmax - rmin) / ((double)qmax - qmin);
        if (scale < Tiny)
        {
            return new QuantizationParameters(1f, 0);
        }

        var zeroPoint = symmetric ? Math.Round((qmin + qmax) / 2.0, MidpointRounding.ToEven) : Math.Round(qmin - (rmin / scale), MidpointRounding.ToEven);
        return new QuantizationParameters((float)scale, (int)zeroPoint);
    }

    /// <summary><c>clip(round(value / scale) + zero point)</c>, in float32 as ONNX Runtime's tool does it.</summary>
    public static int Quantize(float value, QuantizationParameters parameters, QuantizedType type)
    {
        var (min, max) = Range(type, symmetric: false);
        var q = MathF.Round(value / parameters.Scale, MidpointRounding.ToEven) + parameters.ZeroPoint;
        return (int)Math.Clamp(q, min, max);
    }

    /// <summary>A bias as int32 at <paramref name="biasScale"/> (input scale × weight scale), zero point 0, divided in float64 and clipped to int32.</summary>
    public static int QuantizeBias(float value, float biasScale)
    {
        var q = Math.Round((double)value / biasScale, MidpointRounding.ToEven);
        return double.IsNaN(q) ? 0 : (int)Math.Clamp(q, int.MinValue, int.MaxValue);
    }
}
