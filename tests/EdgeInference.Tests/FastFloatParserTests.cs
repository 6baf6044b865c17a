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

            // The float widened to a double, as Python's json and JavaScript's JSON.stringify write it (17 digits).
            AssertSame(((double)value).ToString("R", CultureInfo.InvariantCulture));
            AssertSame(((double)value).ToString("E16", CultureInfo.InvariantCulture));

            // Halfway between this float and the next, and the doubles just either side: the hardest roundings.
            var halfway = ((double)value + (double)MathF.BitIncrement(value)) / 2;
            if (double.IsFinite(halfway))
            {
                foreach (var near in new[] { halfway, Math.BitDecrement(halfway), Math.BitIncrement(halfway) })
                {
                    AssertSame(near.ToString("R", CultureInfo.InvariantCulture));
                    AssertSame(near.ToString("G19", CultureInfo.InvariantCulture));
                }
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
    [InlineData("0.8327173590660095")]
    [InlineData("-1.2345678901234567e-05")]
    [InlineData("9999999999999999999")]
    [InlineData("1.0000000596046448")]
    [InlineData("3.4028235677973366e38")]
    [InlineData("1e-64")]
    [InlineData("1e64")]
    public void Parse_EdgeCases_EqualsTheBclParser(string text) => AssertSame(text);

    [Theory]
    [InlineData("0.50266284,1", 10, 0.50266284f)]
    [InlineData("-12345678.5]", 11, -12345678.5f)]
    [InlineData("1e3 ", 3, 1000f)]
    [InlineData("0.1234567890123456789012,", 24, 0.12345679f)]
    [InlineData("-0.8327173590660095]", 19, -0.83271736f)]
    [InlineData("7,", 1, 7f)]
    [InlineData("12345678", 8, 12345678f)]
    [InlineData("1.5e-3}", 6, 0.0015f)]
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
