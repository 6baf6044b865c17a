using System.Text;

namespace EdgeInference.Testing.Fuzzing;

/// <summary>
/// Structure-aware mutation of valid inputs, as a fuzzer would do: byte flips, cuts, repeats and the insertion of
/// tokens parsers trip on (extreme numbers, nulls, brackets, protobuf varints). Deterministic given the choices, so a
/// property-test library can generate, shrink and replay them.
/// </summary>
public static class Mutations
{
    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "{", "}", "[", "]", "\"", ",", ":", "-1", "0", "-0", "1e309", "-1e309", "NaN", "null", "true", "\"\"", "18446744073709551616", "9223372036854775807",
            "1152921504606846976", "[[[[[[[[[[", "]]]]]]]]]]", "\"shape\":", "\"data\":", "\"datatype\":\"BYTES\"", "\"name\":", "\\u0000", "\\ud800", "0.000000000000000000001",
        }.Select(Encoding.UTF8.GetBytes),
        [0x00], [0xFF], [0x80], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x0A, 0x7F], [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x1A, 0x00], [0xC0, 0x80],
    ];

    /// <summary>One mutation: what to do, where (a fraction of the length), how much, and with what.</summary>
    public readonly record struct Step(int Kind, double At, int Length, int Token, byte Value);

    public static byte[] Apply(byte[] seed, IEnumerable<Step> steps)
    {
        ArgumentNullException.ThrowIfNull(seed);
        ArgumentNullException.ThrowIfNull(steps);
        var bytes = new List<byte>(seed);
        foreach (var step in steps)
        {
            var at = Math.Clamp((int)(step.At * bytes.Count), 0, bytes.Count);
            var length = Math.Min(step.Length, bytes.Count - at);
            switch (step.Kind % 6)
            {
                case 0 when at < bytes.Count:
                    bytes[at] = step.Value;
                    break;
                case 1:
                    bytes.RemoveRange(at, length);
                    break;
                case 2:
                    bytes.InsertRange(at, Tokens[step.Token % Tokens.Length]);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                case 5 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << (step.Value % 8));
                    break;
            }
        }

        return [.. bytes];
    }
}
