using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace EdgeInference.Agent.Protocols;

/// <summary>
/// Parses JSON numbers as floats several times faster than the general parser, and always to the correctly
/// rounded float. Digits are read eight at a time (SWAR, as fast_float does).
/// A number of at most 19 digits with a power of ten within ±64 becomes a double in at most three roundings:
/// exactly once when the mantissa is at most 2^53 and the power within ±22 (Clinger's fast path), otherwise within
/// a few units in the last place. Doubles carry 29 more bits than floats, so rounding that double to a float gives
/// the float of the decimal itself unless the double lies at (exact path) or within 8 units of (otherwise) a
/// halfway point between two floats; those, and everything else, go to <see cref="Utf8Parser"/>. This covers
/// what clients write: floats' shortest forms (9 digits) and floats widened to doubles by Python's json and
/// JavaScript's JSON.stringify (17 digits). Only JSON's number grammar is accepted.
/// </summary>
internal static class FastFloatParser
{
    private const ulong MaxExactMantissa = 1UL << 53;
    private const int MaxExactPower = 22;
    private const int MaxPower = 64;
    private const ulong AsciiZeros = 0x3030303030303030;

    private static ReadOnlySpan<double> PowersOfTen =>
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37,
        1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55,
        1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63, 1e64,
    ];

    /// <summary>Parses the whole of <paramref name="text"/> as one number.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out float value) =>
        TryParsePrefix(text, out value, out var consumed) && consumed == text.Length;

    /// <summary>
    /// Parses the number at the start of <paramref name="text"/>, which may go on after it (e.g. <c>,</c> or <c>]</c>);
    /// <paramref name="consumed"/> is the number's length.
    /// </summary>
    public static bool TryParsePrefix(ReadOnlySpan<byte> text, out float value, out int consumed)
    {
        var negative = !text.IsEmpty && text[0] == '-';
        var start = negative ? 1 : 0;
        ulong mantissa = 0;
        var i = start;
        uint digit;
        while (i < text.Length && (digit = (uint)(text[i] - '0')) <= 9)
        {
            mantissa = (mantissa * 10) + digit; // mostly one digit: the loop beats reading eight
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

        if (digits > 19 || mantissa > MaxExactMantissa || exponent is < -MaxExactPower or > MaxExactPower)
        {
            return TryApproximate(text, negative, mantissa, exponent, digits, i, out value, out consumed);
        }

        // Clinger's fast path: the mantissa and the power are exact doubles, so their quotient or product is the
        // correctly rounded double. Exactly halfway between two floats, the decimal may be on either side.
        var exact = exponent < 0 ? mantissa / PowersOfTen[-exponent] : mantissa * PowersOfTen[exponent];
        if ((BitConverter.DoubleToUInt64Bits(exact) & 0x1FFFFFFF) == 0x10000000 || !IsNormalFloat(exact))
        {
            return Fallback(text, out value, out consumed);
        }

        value = negative ? -(float)exact : (float)exact;
        consumed = i;
        return true;
    }

    /// <summary>
    /// Longer mantissas (up to 19 digits, such as floats widened to doubles) and powers up to ±64: the double is
    /// within a few units in its last place of the decimal, so it rounds to the decimal's float unless it lies within
    /// 8 units of a halfway point between two floats.
    /// </summary>
    private static bool TryApproximate(ReadOnlySpan<byte> text, bool negative, ulong mantissa, int exponent, int digits, int end, out float value, out int consumed)
    {
        if (digits > 19 || exponent is < -MaxPower or > MaxPower)
        {
            return Fallback(text, out value, out consumed); // more than 19 digits may have overflowed the mantissa
        }

        var approximate = exponent < 0 ? mantissa / PowersOfTen[-exponent] : mantissa * PowersOfTen[exponent];
        var fromHalfway = (long)(BitConverter.DoubleToUInt64Bits(approximate) & 0x1FFFFFFF) - 0x10000000;
        if ((ulong)(fromHalfway + 8) <= 16 || !IsNormalFloat(approximate))
        {
            return Fallback(text, out value, out consumed);
        }

        value = negative ? -(float)approximate : (float)approximate;
        consumed = end;
        return true;
    }

    /// <summary>Zero or within the normal floats; subnormal and out-of-range floats take the slow path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsNormalFloat(double value) =>
        value == 0 || (value >= 1.1754943508222875e-38 /* smallest normal float */ && value <= float.MaxValue);

    /// <summary>Reads eight ASCII digits at once (SWAR, as fast_float does); false if any byte is not a digit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // once per number: the AOT compiler left it a call
    private static bool TryReadEightDigits(ReadOnlySpan<byte> text, out uint value)
    {
        var word = BinaryPrimitives.ReadUInt64LittleEndian(text);
        if ((((word & 0xF0F0F0F0F0F0F0F0) | (((word + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) != 0x3333333333333333))
        {
            value = 0;
            return false;
        }

        word -= AsciiZeros;
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
