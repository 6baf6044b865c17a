using EdgeInference.Agent.Capture;

namespace EdgeInference.Tests.Sensors;

/// <summary>How a sensor window takes a model input's shape.</summary>
public sealed class SensorCaptureSourceTests
{
    [Theory]
    [InlineData(new long[] { -1, 96 }, 96, new long[] { 1, 96 })]
    [InlineData(new long[] { -1, -1, 3 }, 96, new long[] { 1, 32, 3 })]
    [InlineData(new long[] { 1, 8, 8 }, 64, new long[] { 1, 8, 8 })]
    [InlineData(new long[] { -1, 8, 8 }, 64, new long[] { 1, 8, 8 })]
    [InlineData(new long[] { -1 }, 40, new long[] { 40 })]
    public void AWindow_FillsTheInputShape_WithDynamicDimensionsResolved(long[] shape, long count, long[] expected) =>
        Assert.Equal(expected, SensorCaptureSource.Fit(shape, count));

    [Theory]
    [InlineData(new long[] { -1, 10 }, 96)]
    [InlineData(new long[] { 1, 8, 8 }, 96)]
    [InlineData(new long[] { -1, 7 }, 96)]
    public void AWindowOfAnotherSize_FitsNoShape(long[] shape, long count) => Assert.Null(SensorCaptureSource.Fit(shape, count));
}
