using EdgeInference.Optimization.Quantization;

namespace EdgeInference.Tests.Optimization;

/// <summary>Scale, zero point and rounding, on cases worked out by hand from ONNX Runtime's tool (quant_utils.py).</summary>
public sealed class QuantizationMathTests
{
    [Fact]
    public void AnEmptyRange_GetsScaleOneAndZeroPointZero()
    {
        Assert.Equal(new QuantizationParameters(1f, 0), QuantizationMath.Parameters(0f, 0f, -127, 127, symmetric: true));
        Assert.Equal(new QuantizationParameters(1f, 0), QuantizationMath.Parameters(0f, 0f, 0, 255, symmetric: false));
    }

    [Fact]
    public void SymmetricWeights_SpreadTheLargerMagnitudeOverMinus127To127_WithZeroPointZero()
    {
        // [−0.5, 1] becomes [−1, 1]; scale = 2 / 254.
        Assert.Equal(new QuantizationParameters((float)(2.0 / 254), 0), QuantizationMath.Parameters(-0.5f, 1f, -127, 127, symmetric: true));
        Assert.Equal((-127, 127), QuantizationMath.Range(QuantizedType.S8, symmetric: true));

        // Symmetric uint8 puts zero in the middle of 0 … 254.
        Assert.Equal(127, QuantizationMath.Parameters(-1f, 1f, 0, 254, symmetric: true).ZeroPoint);
    }

    [Fact]
    public void AsymmetricActivations_MapTheRangeOnto0To255()
    {
        // scale = 4 / 255; zero point = round(0 − (−1.5) / scale) = round(95.625) = 96.
        var parameters = QuantizationMath.Parameters(-1.5f, 2.5f, 0, 255, symmetric: false);

        Assert.Equal((float)(4.0 / 255), parameters.Scale);
        Assert.Equal(96, parameters.ZeroPoint);
    }

    [Theory]
    [InlineData(0.5f, 2f, 2.0 / 255, 0)]
    [InlineData(-3f, -1f, 3.0 / 255, 255)]
    public void ZeroIsAlwaysRepresentable_TheRangeIsWidenedToHoldIt(float min, float max, double scale, int zeroPoint)
    {
        var parameters = QuantizationMath.Parameters(min, max, 0, 255, symmetric: false);

        Assert.Equal((float)scale, parameters.Scale);
        Assert.Equal(zeroPoint, parameters.ZeroPoint);
        Assert.InRange(parameters.ZeroPoint, 0, 255);
    }

    [Fact]
    public void HalvesRoundToEven_AsNumpyDoes()
    {
        // scale = 127.5 / 255 = 0.5 exactly; zero point = round(1.25 / 0.5) = round(2.5) = 2, not 3.
        Assert.Equal(2, QuantizationMath.Parameters(-1.25f, 126.25f, 0, 255, symmetric: false).ZeroPoint);

        var sixteenth = new QuantizationParameters(0.0625f, 0);
        Assert.Equal(2, QuantizationMath.Quantize(0.09375f, sixteenth, QuantizedType.S8));
        Assert.Equal(2, QuantizationMath.Quantize(0.15625f, sixteenth, QuantizedType.S8));
        Assert.Equal(-2, QuantizationMath.Quantize(-0.15625f, sixteenth, QuantizedType.S8));
        Assert.Equal(2, QuantizationMath.QuantizeBias(0.625f, 0.25f));
    }

    [Fact]
    public void ValuesBeyondTheRange_AreClippedToTheType()
    {
        var parameters = new QuantizationParameters(0.1f, 10);

        Assert.Equal(255, QuantizationMath.Quantize(1000f, parameters, QuantizedType.U8));
        Assert.Equal(0, QuantizationMath.Quantize(-1000f, parameters, QuantizedType.U8));
        Assert.Equal(-128, QuantizationMath.Quantize(-1000f, parameters, QuantizedType.S8));
        Assert.Equal(int.MaxValue, QuantizationMath.QuantizeBias(1e10f, 1e-3f));
    }
}
