namespace EdgeInference.Runtime.Drift;

/// <summary>Distances between a reference histogram and a window's bin counts over the same edges.</summary>
public static class DriftMath
{
    /// <summary>
    /// Population stability index, Σ (w − r) ln(w / r). Empty bins count as half an observation of their side
    /// (r ≥ 1/(2·<paramref name="referenceCount"/>), w ≥ 1/(2·window count)), so the index stays finite.
    /// </summary>
    public static double Psi(ReadOnlySpan<double> reference, long referenceCount, ReadOnlySpan<long> window)
    {
        var total = Total(window);
        if (total == 0 || reference.Length != window.Length)
        {
            return 0;
        }

        var rFloor = 0.5 / Math.Max(referenceCount, 1);
        var wFloor = 0.5 / total;
        var psi = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            var r = Math.Max(reference[i], rFloor);
            var w = Math.Max((double)window[i] / total, wFloor);
            psi += (w - r) * Math.Log(w / r);
        }

        return psi;
    }

    /// <summary>The Kolmogorov–Smirnov statistic, the largest gap between the two cumulative distributions at the bin edges.</summary>
    public static double Ks(ReadOnlySpan<double> reference, ReadOnlySpan<long> window)
    {
        var total = Total(window);
        if (total == 0 || reference.Length != window.Length)
        {
            return 0;
        }

        double r = 0, w = 0, ks = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            r += reference[i];
            w += (double)window[i] / total;
            ks = Math.Max(ks, Math.Abs(r - w));
        }

        return ks;
    }

    /// <summary>The Jensen–Shannon distance in bits: the square root of the divergence, between 0 (same) and 1 (disjoint).</summary>
    public static double JsDistance(ReadOnlySpan<double> reference, ReadOnlySpan<long> window)
    {
        var total = Total(window);
        if (total == 0 || reference.Length != window.Length)
        {
            return 0;
        }

        var divergence = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            var r = reference[i];
            var w = (double)window[i] / total;
            var m = (r + w) / 2;
            if (r > 0)
            {
                divergence += 0.5 * r * Math.Log2(r / m);
            }

            if (w > 0)
            {
                divergence += 0.5 * w * Math.Log2(w / m);
            }
        }

        return Math.Sqrt(Math.Clamp(divergence, 0, 1));
    }

    private static long Total(ReadOnlySpan<long> counts)
    {
        var total = 0L;
        foreach (var count in counts)
        {
            total += count;
        }

        return total;
    }
}
