using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Tests;

/// <summary>Shape arithmetic never wraps, and a declared shape is refused before anything is sized from it.</summary>
public sealed class TensorShapeTests
{
    [Theory]
    [InlineData(new long[] { 16, 1152921504606846976 })]          // 2⁶⁴ wraps to 0
    [InlineData(new long[] { 4294967296, 4294967296, 3 })]        // 2⁶⁴ × 3
    [InlineData(new long[] { 3037000500, 3037000500 })]           // just over 2⁶³
    [InlineData(new long[] { 65536, 32768 })]                     // 2³¹: one over int.MaxValue
    [InlineData(new long[] { long.MaxValue, 2 })]
    public void ElementCount_OfAShapeBeyondIntMaxValue_IsMinusOne_NeverAWrappedProduct(long[] shape) =>
        Assert.Equal(-1, TensorShape.ElementCount(shape));

    [Theory]
    [InlineData(new long[] { }, 1)]
    [InlineData(new long[] { 0, 7 }, 0)]
    [InlineData(new long[] { 1, 16, 96 }, 1536)]
    [InlineData(new long[] { 46341, 46340 }, 2147441940)]
    [InlineData(new long[] { 2147483647 }, 2147483647)]
    public void ElementCount_OfAShapeWithinRange_IsTheProduct(long[] shape, long expected) =>
        Assert.Equal(expected, TensorShape.ElementCount(shape));

    [Fact]
    public void Problem_NamesRankSignOverflowAndShortData_InThatOrder()
    {
        Assert.Equal("has rank 9; at most 8 is supported", TensorShape.Problem([1, 1, 1, 1, 1, 1, 1, 1, -1], 1));
        Assert.Equal("has a negative dimension in shape [1,-4]", TensorShape.Problem([1, -4], 100));
        Assert.Equal("has shape [16,1152921504606846976], more than 2147483647 elements", TensorShape.Problem([16, 1152921504606846976], long.MaxValue));
        Assert.Equal("has shape [2,3] of 6 elements, more than its data can hold (5)", TensorShape.Problem([2, 3], 5));
        Assert.Null(TensorShape.Problem([2, 3], 6));
        Assert.Null(TensorShape.Problem([1, 1, 1, 1, 1, 1, 1, 1], 1));
    }

    [Fact]
    public void NpyRead_OfAHeaderLengthOverIntMaxValue_IsAFormatError_NotAnOverflow()
    {
        var file = new byte[16];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 0xFF, 0xFF, 0xFF, 0xFF }.CopyTo(file, 0);
        var error = Assert.Throws<FormatException>(() => NpyFile.Read(file));
        Assert.Equal("the .npy header runs past the end of the file", error.Message);
    }

    [Fact]
    public void NpyRead_OfAShapeThatWraps_IsAFormatErrorNamingTheShape()
    {
        var file = NpyFile.Write(TensorDataType.Fp32, [2], new byte[8]);
        var text = System.Text.Encoding.ASCII.GetString(file).Replace("(2,)", "(16, 1152921504606846976)", StringComparison.Ordinal);
        var header = text[10..text.IndexOf('\n', StringComparison.Ordinal)];
        var patched = NpyFile.Write(TensorDataType.Fp32, [2], new byte[8]);
        var bytes = System.Text.Encoding.ASCII.GetBytes(header.PadRight(header.Length + 1));
        var withHeader = new byte[10 + bytes.Length + 8];
        patched.AsSpan(0, 10).CopyTo(withHeader);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(withHeader.AsSpan(8), (ushort)bytes.Length);
        bytes.CopyTo(withHeader, 10);
        var error = Assert.Throws<FormatException>(() => NpyFile.Read(withHeader));
        Assert.Equal("the array has shape [16,1152921504606846976], more than 2147483647 elements", error.Message);
    }
}
