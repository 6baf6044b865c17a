namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// One tensor's histogram over a fixed range, as ONNX Runtime's calibrator builds it: of values over
/// <c>[−t, t]</c> (t the largest magnitude seen) for entropy, of magnitudes over <c>[0, t]</c> for percentile.
/// The range is known before the first value (a first pass over the inputs found it), so every input lands in the
/// same bins.
/// </summary>
internal sealed class RangeHistogram
{
    private readonly long[] _counts;
    private readonly double _low;
    private readonly double _width;
    private readonly bool _magnitudes;

    public RangeHistogram(int bins, float threshold, bool magnitudes)
    {
        _counts = new long[bins];
        _magnitudes = magnitudes;
        _low = magnitudes ? 0 : -threshold;
        _width = (threshold - _low) / bins;
    }

    public void Add(ReadOnlySpan<float> values)
    {
        var last = _counts.Length - 1;
        foreach (var raw in values)
        {
            if (float.IsNaN(raw))
            {
                continue;
            }

            var value = _magnitudes ? Math.Abs(raw) : raw;
            var bin = _width > 0 ? (int)Math.Floor((value - _low) / _width) : 0;
            _counts[Math.Clamp(bin, 0, last)]++;
        }
    }

    /// <summary>The value at bin edge <paramref name="index"/> (0 … bins).</summary>
    public float Edge(int index) => (float)(_low + (index * _width));

    /// <summary>ORT's percentile: the edge where the cumulative share first reaches <paramref name="percentile"/> %, as <c>[−t, t]</c>.</summary>
    public (float Low, float High) Percentile(double percentile)
    {
        var total = (double)_counts.Sum();
        double cumulative = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            cumulative += _counts[i] / total;
            if (cumulative >= percentile / 100.0)
            {
                var edge = Edge(i);
                return (-edge, edge);
            }
        }

        return (-Edge(_counts.Length), Edge(_counts.Length));
    }

    /// <summary>
    /// ORT's entropy method (TensorRT's): for each symmetric window around zero, at least
    /// <paramref name="quantizedBins"/> bins wide, the KL divergence between the histogram clipped to it and that clip
    /// squeezed into <paramref name="quantizedBins"/> levels; the window with the least divergence.
    /// </summary>
    public (float Low, float High) Entropy(int quantizedBins)
    {
        var bins = _counts.Length;
        var zero = bins / 2;
        var half = quantizedBins / 2;
        var best = double.PositiveInfinity;
        (float, float) chosen = (Edge(0), Edge(bins));
        var p = new double[bins];
        var q = new double[bins];
        for (var i = half; i <= zero; i++)
        {
            var start = zero - i;
            var end = Math.Min(zero + i + 1, bins);
            var width = end - start;

            // p: the window, with everything outside it piled onto its end bins.
            for (var j = 0; j < width; j++)
            {
                p[j] = _counts[start + j];
            }

            for (var j = 0; j < start; j++)
            {
                p[0] += _counts[j];
            }

            for (var j = end; j < bins; j++)
            {
                p[width - 1] += _counts[j];
            }

            // q: the window merged into quantizedBins levels, each spread evenly over its non-empty bins.
            var merged = width / quantizedBins;
            Array.Clear(q, 0, width);
            for (var level = 0; level < quantizedBins; level++)
            {
                var from = level * merged;
                var to = level == quantizedBins - 1 ? width : from + merged;
                long sum = 0;
                var nonEmpty = 0;
                for (var j = from; j < to; j++)
                {
                    sum += _counts[start + j];
                }

                // As ORT does: the last level's sum takes the bins left over, its spread does not.
                for (var j = from; j < from + merged; j++)
                {
                    nonEmpty += p[j] != 0 ? 1 : 0;
                }

                if (nonEmpty == 0)
                {
                    continue;
                }

                // In integers, over every bin of the level, as ORT does.
                var spread = Math.Floor((double)sum / nonEmpty);
                for (var j = from; j < from + merged; j++)
                {
                    q[j] = spread;
                }
            }

            var divergence = Divergence(p.AsSpan(0, width), q.AsSpan(0, width));
            if (divergence < best)
            {
                best = divergence;
                chosen = (Edge(start), Edge(end));
            }
        }

        return chosen;
    }

    /// <summary>KL(p ‖ q) after ORT's smoothing (zeros become 1e-4, taken evenly from the rest); infinite when either is all zeros.</summary>
    private static double Divergence(Span<double> p, Span<double> q)
    {
        if (!Smooth(p) || !Smooth(q))
        {
            return double.PositiveInfinity;
        }

        double sp = 0, sq = 0;
        foreach (var v in p)
        {
            sp += v;
        }

        foreach (var v in q)
        {
            sq += v;
        }

        double kl = 0;
        for (var i = 0; i < p.Length; i++)
        {
            var pi = p[i] / sp;
            kl += pi * Math.Log(pi / (q[i] / sq));
        }

        return kl;
    }

    private static bool Smooth(Span<double> values)
    {
        const double Epsilon = 0.0001;
        var zeros = 0;
        foreach (var v in values)
        {
            zeros += v == 0 ? 1 : 0;
        }

        var nonZeros = values.Length - zeros;
        if (nonZeros == 0)
        {
            return false;
        }

        var taken = Epsilon * zeros / nonZeros;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = values[i] == 0 ? Epsilon : values[i] - taken;
        }

        return true;
    }
}
