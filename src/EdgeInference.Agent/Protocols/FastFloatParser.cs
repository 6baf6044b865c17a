using System.Buffers.Binary;
using System.Buffers.Text;

namespace EdgeInference.Agent.Protocols;

/// <summary>
/// Parses JSON numbers as floats several times faster than the general parser for the common case (a decimal
/// mantissa of at most 2^53 and a power of ten within ±22): the decimal is made an exact double and rounded once
/// (Clinger's fast path). It falls back to <see cref="Utf8Parser"/> whenever that could round differently,
/// so the result is always the correctly rounded float. Only JSON's number grammar is accepted.
/// </summary>
internal static class FastFloatParser
{
    private const ulong MaxExactMantissa = 1UL << 53;

    private static ReadOnlySpan<double> PowersOfTen =>
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>Parses the whole of <paramref name="text"/> as one number.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out float value) =>
        TryParsePrefix(text, out value, out var consumed) && consumed == text.Length;

    /// <summary>
    /// Parses the number at the start of <paramref name="text"/>, which may go on after it (e.g. <c>,</c> or <c>]</c>);
    /// <paramref name="consumed"/> is the number's length.
    /// </summary>
    public static bool TryParsePrefix(ReadOnlySpan<byte> text, out float value, out int consumed)
    {
        var i = 0;
        var negative = !text.IsEmpty && text[0] == '-';
        if (negative)
        {
            i++;
        }

        ulong mantissa = 0;
        var start = i;
        uint digit;
        while (i < text.Length && (digit = (uint)(text[i] - '0')) <= 9)
        {
            mantissa = (mantissa * 10) + digit;
            i++;
        }

        var digits = i - start;
        if (digits == 0 || (digits > 1 && text[start] == '0'))
        {
            return Refuse(out value, out consumed); // "-", ".5", "01": not JSON numbers
        }

        var exponent = 0;
        if (i < text.Length && text[i] == '.')
        {
            var fraction = ++i;
            while (i + 8 <= text.Length && TryReadEightDigits(text.Slice(i, 8), out var eight))
            {
                mantissa = (mantissa * 100_000_000) + eight; // wraps past 19 digits, which are refused below
                i += 8;
            }

            while (i < text.Length && (digit = (uint)(text[i] - '0')) <= 9)
            {
                mantissa = (mantissa * 10) + digit;
                i++;
            }

            if (i == fraction)
            {
                return Refuse(out value, out consumed); // "1.": not a JSON number
            }

            exponent = fraction - i;
            digits += i - fraction;
        }

        if (i < text.Length && (text[i] | 0x20) == 'e')
        {
            i++;
            var negativeExponent = i < text.Length && text[i] == '-';
            if (i < text.Length && (text[i] == '-' || text[i] == '+'))
            {
                i++;
            }

            var e = 0;
            var exponentStart = i;
            while (i < text.Length && (digit = (uint)(text[i] - '0')) <= 9)
            {
                e = e < 10000 ? (e * 10) + (int)digit : e;
                i++;
            }

            if (i == exponentStart)
            {
                return Refuse(out value, out consumed); // "1e": not a JSON number
            }

            exponent += negativeExponent ? -e : e;
        }

        // More than 19 digits may have overflowed the mantissa; bigger mantissas or powers are not exact doubles.
        if (digits > 19 || mantissa > MaxExactMantissa || exponent is < -22 or > 22)
        {
            return Fallback(text, out value, out consumed);
        }

        var exact = exponent < 0 ? mantissa / PowersOfTen[-exponent] : mantissa * PowersOfTen[exponent];
        // A double exactly halfway between two floats may come from a decimal on either side: let the slow path decide.
        // Subnormal and out-of-range floats also take the slow path.
        if ((BitConverter.DoubleToUInt64Bits(exact) & 0x1FFFFFFF) == 0x10000000
            || (exact != 0 && (exact < 1.1754943508222875e-38 /* smallest normal float */ || exact > float.MaxValue)))
        {
            return Fallback(text, out value, out consumed);
        }

        value = negative ? -(float)exact : (float)exact;
        consumed = i;
        return true;
    }

    /// <summary>Reads eight ASCII digits at once (SWAR), as fast_float does; false if any byte is not a digit.</summary>
    private static bool TryReadEightDigits(ReadOnlySpan<byte> text, out uint value)
    {
        var word = BinaryPrimitives.ReadUInt64LittleEndian(text);
        if ((((word & 0xF0F0F0F0F0F0F0F0) | (((word + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) != 0x3333333333333333))
        {
            value = 0;
            return false;
        }

        word -= 0x3030303030303030;
        word = (word * 10) + (word >> 8); // pairs of digits
        value = (uint)((((word & 0x000000FF000000FF) * (100 + (1000000UL << 32))) + (((word >> 16) & 0x000000FF000000FF) * (1 + (10000UL << 32)))) >> 32);
        return true;
    }

    private static bool Refuse(out float value, out int consumed)
    {
        value = 0;
        consumed = 0;
        return false;
    }

    /// <summary>The general parser, for a number in JSON's grammar that the fast path cannot round exactly.</summary>
    private static bool Fallback(ReadOnlySpan<byte> text, out float value, out int consumed)
    {
        var end = 0;
        while (end < text.Length && text[end] is (byte)'-' or (byte)'+' or (byte)'.' or (byte)'e' or (byte)'E' or (>= (byte)'0' and <= (byte)'9'))
        {
            end++;
        }

        return Utf8Parser.TryParse(text[..end], out value, out consumed) && consumed == end;
    }
}
