using EdgeInference.Contracts;

namespace EdgeInference.Runtime.Drift;

/// <summary>A feature's reference distribution: from the version's profile.json, or learned from its first window.</summary>
public sealed class FeatureReference
{
    private FeatureReference(double[] edges, double[] histogram, long count, double mean, double std, double min, double max, double nanRate, double missingRate)
    {
        Edges = edges;
        Histogram = histogram;
        Count = count;
        Mean = mean;
        Std = std;
        Min = min;
        Max = max;
        NanRate = nanRate;
        MissingRate = missingRate;
    }

    /// <summary>Increasing edges: the minimum, the interior quantiles, and the value just above the maximum.</summary>
    public double[] Edges { get; }

    /// <summary>The share of reference values per bin; one more than <see cref="Edges"/>.</summary>
    public double[] Histogram { get; }

    public long Count { get; }

    public double Mean { get; }

    public double Std { get; }

    public double Min { get; }

    public double Max { get; }

    public double NanRate { get; }

    public double MissingRate { get; }

    /// <summary>
    /// A reference from the finite <paramref name="sample"/> (sorted in place) with <paramref name="bins"/> quantile bins.
    /// Moments, range and rates come from the caller, who saw every value and not just the sample.
    /// </summary>
    public static FeatureReference Learn(Span<double> sample, int bins, long count, double mean, double std, double min, double max, double nanRate, double missingRate)
    {
        if (sample.IsEmpty)
        {
            throw new ArgumentException("a reference needs at least one value", nameof(sample));
        }

        sample.Sort();
        var edges = new List<double>(bins + 1) { min };
        for (var i = 1; i < bins; i++)
        {
            var q = sample[(int)Math.Min(sample.Length - 1, (long)i * sample.Length / bins)];
            if (q > edges[^1])
            {
                edges.Add(q);
            }
        }

        var top = Math.BitIncrement(max);
        if (double.IsFinite(top) && top > edges[^1])
        {
            edges.Add(top);
        }

        var edgeArray = edges.ToArray();
        var histogram = new double[edgeArray.Length + 1];
        foreach (var value in sample)
        {
            histogram[BinOf(edgeArray, value)]++;
        }

        for (var i = 0; i < histogram.Length; i++)
        {
            histogram[i] /= sample.Length;
        }

        return new FeatureReference(edgeArray, histogram, count, mean, std, min, max, nanRate, missingRate);
    }

    /// <summary>Reads a profile's feature; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static FeatureReference FromProfile(ProfileFeature feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        var edges = feature.BinEdges ?? [];
        var histogram = feature.Histogram ?? [];
        if (edges.Length == 0 || histogram.Length != edges.Length + 1)
        {
            throw new FormatException($"feature '{feature.Name}' needs bin_edges and a histogram with one more entry ({edges.Length} edges, {histogram.Length} bins)");
        }

        for (var i = 0; i < edges.Length; i++)
        {
            if (!double.IsFinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1]))
            {
                throw new FormatException($"feature '{feature.Name}' has bin_edges that are not finite and strictly increasing (at index {i})");
            }
        }

        var sum = 0.0;
        foreach (var share in histogram)
        {
            if (!(share >= 0) || double.IsInfinity(share))
            {
                throw new FormatException($"feature '{feature.Name}' has a histogram entry that is not a share between 0 and 1");
            }

            sum += share;
        }

        if (Math.Abs(sum - 1) > 1e-3)
        {
            throw new FormatException($"feature '{feature.Name}' has a histogram summing to {sum:0.####}, not 1");
        }

        if (feature.Count < 1)
        {
            throw new FormatException($"feature '{feature.Name}' has count {feature.Count}; a reference needs at least one value");
        }

        return new FeatureReference(edges, histogram, feature.Count, feature.Mean, feature.Std, feature.Min, feature.Max, feature.NanRate, feature.MissingRate);
    }

    /// <summary>The bin of <paramref name="value"/>: how many edges are at or below it (0 below the minimum, the last above the maximum).</summary>
    public static int BinOf(ReadOnlySpan<double> edges, double value)
    {
        var bin = 0;
        foreach (var edge in edges)
        {
            bin += value >= edge ? 1 : 0;
        }

        return bin;
    }

    public ProfileFeature ToProfile(DriftFeature feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        return new ProfileFeature
        {
            Name = feature.Name,
            Tensor = feature.Tensor,
            Kind = feature.Kind,
            Statistic = feature.StatisticName,
            Count = Count,
            Mean = Mean,
            Std = Std,
            Min = Min,
            Max = Max,
            NanRate = NanRate,
            MissingRate = MissingRate,
            BinEdges = Edges,
            Histogram = Histogram,
        };
    }
}
