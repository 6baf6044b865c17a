using System.Buffers.Text;

namespace EdgeInference.Agent.Protocols;

/// <summary>
/// Parses JSON numbers as floats several times faster than the general parser for the common case (at most
/// 15 significant digits, a power of ten within ±22): the decimal is made an exact double and rounded once
/// (Clinger's fast path). It falls back to <see cref="Utf8Parser"/> whenever that could round differently,
/// so the result is always the correctly rounded float.
/// </summary>
internal static class FastFloatParser
{
    private static readonly double[] PowersOfTen =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    public static bool TryParse(ReadOnlySpan<byte> text, out float value)
    {
        if (TryFastPath(text, out value))
        {
            return true;
        }

        return Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length;
    }

    private static bool TryFastPath(ReadOnlySpan<byte> text, out float value)
    {
        value = 0;
        var i = 0;
        var negative = i < text.Length && text[i] == '-';
        if (negative)
        {
            i++;
        }

        ulong mantissa = 0;
        var significant = 0;
        var exponent = 0;
        var digits = 0;
        for (; i < text.Length && (uint)(text[i] - '0') <= 9; i++, digits++)
        {
            Accumulate(text[i], ref mantissa, ref significant);
        }

        if (i < text.Length && text[i] == '.')
        {
            for (i++; i < text.Length && (uint)(text[i] - '0') <= 9; i++, digits++)
            {
                Accumulate(text[i], ref mantissa, ref significant);
                exponent--;
            }
        }

        if (digits == 0 || significant > 15)
        {
            return false;
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
            var start = i;
            for (; i < text.Length && (uint)(text[i] - '0') <= 9 && e < 1000; i++)
            {
                e = (e * 10) + (text[i] - '0');
            }

            if (i == start)
            {
                return false;
            }

            exponent += negativeExponent ? -e : e;
        }

        if (i != text.Length || exponent is < -22 or > 22)
        {
            return false;
        }

        var exact = exponent < 0 ? mantissa / PowersOfTen[-exponent] : mantissa * PowersOfTen[exponent];
        // A double exactly halfway between two floats may come from a decimal on either side: let the slow path decide.
        // Subnormal and out-of-range floats also take the slow path.
        if ((BitConverter.DoubleToUInt64Bits(exact) & 0x1FFFFFFF) == 0x10000000
            || (exact != 0 && (exact < 1.1754943508222875e-38 /* smallest normal float */ || exact > float.MaxValue)))
        {
            return false;
        }

        value = negative ? -(float)exact : (float)exact;
        return true;
    }

    private static void Accumulate(byte digit, ref ulong mantissa, ref int significant)
    {
        if (significant > 15)
        {
            return; // too many digits for the fast path; the caller falls back
        }

        mantissa = (mantissa * 10) + (ulong)(digit - '0');
        if (mantissa != 0)
        {
            significant++;
        }
    }
}
