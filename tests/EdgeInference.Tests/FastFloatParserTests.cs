using System.Buffers.Text;
using System.Globalization;
using System.Text;
using EdgeInference.Agent.Protocols;

namespace EdgeInference.Tests;

/// <summary>The fast JSON float path always gives the correctly rounded float, like the BCL parser.</summary>
public sealed class FastFloatParserTests
{
    [Fact]
    public void Parse_RandomFloatsInEveryFormat_EqualsTheBclParser()
    {
        var random = new Random(12345);
        for (var i = 0; i < 200_000; i++)
        {
            var value = BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue));
            if (!float.IsFinite(value))
            {
                continue;
            }

            foreach (var format in new[] { "R", "G9", "E6", "F4", "G3" })
            {
                AssertSame(value.ToString(format, CultureInfo.InvariantCulture));
            }

            // Random decimals, including ones far from any float and ones with many digits.
            AssertSame(((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30))).ToString("R", CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("1e-46")]
    [InlineData("3.4028236e38")]
    [InlineData("1.17549435e-38")]
    [InlineData("16777217")]
    [InlineData("0.000000000000000000001")]
    [InlineData("123456789012345678901234567890")]
    public void Parse_EdgeCases_EqualsTheBclParser(string text) => AssertSame(text);

    [Theory]
    [InlineData("0.50266284,1", 10, 0.50266284f)]
    [InlineData("-12345678.5]", 11, -12345678.5f)]
    [InlineData("1e3 ", 3, 1000f)]
    [InlineData("0.1234567890123456789012,", 24, 0.12345679f)]
    public void ParsePrefix_StopsAtTheEndOfTheNumber(string text, int expectedConsumed, float expected)
    {
        Assert.True(FastFloatParser.TryParsePrefix(Encoding.ASCII.GetBytes(text), out var value, out var consumed));
        Assert.Equal(expectedConsumed, consumed);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("-")]
    [InlineData("1e")]
    [InlineData("abc")]
    [InlineData("012")]
    public void Parse_TextThatIsNotAJsonNumber_IsRefused(string text) =>
        Assert.False(FastFloatParser.TryParse(Encoding.ASCII.GetBytes(text), out _));

    private static void AssertSame(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        var expectedOk = Utf8Parser.TryParse(bytes, out float expected, out var consumed) && consumed == bytes.Length;
        var actualOk = FastFloatParser.TryParse(bytes, out var actual);
        Assert.Equal(expectedOk, actualOk);
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"'{text}': expected {expected:R}, got {actual:R}");
    }
}
