using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace EdgeInference.Packaging;

/// <summary>A semantic version (semver.org 2.0): <c>MAJOR.MINOR.PATCH[-prerelease][+build]</c>, ordered by its precedence rules.</summary>
public sealed class SemanticVersion : IComparable<SemanticVersion>, IEquatable<SemanticVersion>
{
    private SemanticVersion(long major, long minor, long patch, string prerelease, string text)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        Prerelease = prerelease;
        Text = text;
    }

    public long Major { get; }

    public long Minor { get; }

    public long Patch { get; }

    /// <summary>The pre-release part without its dash; empty for a release.</summary>
    public string Prerelease { get; }

    /// <summary>The version as written.</summary>
    public string Text { get; }

    public static SemanticVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 2.0.0)");

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out SemanticVersion? version)
    {
        version = null;
        if (string.IsNullOrEmpty(text) || text.Length > 128)
        {
            return false;
        }

        var core = text;
        var plus = core.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            if (!ValidIdentifiers(core[(plus + 1)..], numericRule: false))
            {
                return false;
            }

            core = core[..plus];
        }

        var prerelease = "";
        var dash = core.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            prerelease = core[(dash + 1)..];
            if (!ValidIdentifiers(prerelease, numericRule: true))
            {
                return false;
            }

            core = core[..dash];
        }

        var parts = core.Split('.');
        if (parts.Length != 3 || !Number(parts[0], out var major) || !Number(parts[1], out var minor) || !Number(parts[2], out var patch))
        {
            return false;
        }

        version = new SemanticVersion(major, minor, patch, prerelease, text);
        return true;
    }

    public int CompareTo(SemanticVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var byCore = (Major, Minor, Patch).CompareTo((other.Major, other.Minor, other.Patch));
        if (byCore != 0)
        {
            return byCore;
        }

        // A pre-release ranks below its release; pre-releases compare identifier by identifier.
        if (Prerelease.Length == 0 || other.Prerelease.Length == 0)
        {
            return (Prerelease.Length == 0, other.Prerelease.Length == 0) switch { (true, true) => 0, (true, false) => 1, _ => -1 };
        }

        var mine = Prerelease.Split('.');
        var theirs = other.Prerelease.Split('.');
        for (var i = 0; i < Math.Min(mine.Length, theirs.Length); i++)
        {
            var a = long.TryParse(mine[i], NumberStyles.None, CultureInfo.InvariantCulture, out var x);
            var b = long.TryParse(theirs[i], NumberStyles.None, CultureInfo.InvariantCulture, out var y);
            var c = (a, b) switch
            {
                (true, true) => x.CompareTo(y),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(mine[i], theirs[i]),
            };
            if (c != 0)
            {
                return Math.Sign(c);
            }
        }

        return mine.Length.CompareTo(theirs.Length);
    }

    public bool Equals(SemanticVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is SemanticVersion other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Major, Minor, Patch, Prerelease);

    public override string ToString() => Text;

    private static bool Number(string part, out long value)
    {
        value = 0;
        return part.Length > 0 && (part.Length == 1 || part[0] != '0')
            && long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool ValidIdentifiers(string text, bool numericRule)
    {
        foreach (var identifier in text.Split('.'))
        {
            if (identifier.Length == 0 || !identifier.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }

            if (numericRule && identifier.Length > 1 && identifier[0] == '0' && identifier.All(char.IsAsciiDigit))
            {
                return false;
            }
        }

        return true;
    }
}
