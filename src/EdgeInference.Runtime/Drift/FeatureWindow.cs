namespace EdgeInference.Runtime.Drift;

/// <summary>
/// One feature's running sketch for the current window: counts, shifted sums for the moments, range, and the
/// reference's bin counts (or, while there is no reference yet, a reservoir sample to learn one from).
/// Not thread-safe: the model's monitor serialises access.
/// </summary>
public sealed class FeatureWindow
{
    private readonly int _reservoirSize;
    private double[] _reservoir = [];
    private long[] _bins = [];
    private double[] _edges = [];
    private double _shift;
    private bool _shiftSet;
    private double _sum;
    private double _sumOfSquares;

    public FeatureWindow(int reservoirSize)
    {
        _reservoirSize = reservoirSize;
        Reset(null);
    }

    public FeatureReference? Reference { get; private set; }

    public long Count { get; private set; }

    public long NanCount { get; private set; }

    public long MissingCount { get; private set; }

    public double Min { get; private set; }

    public double Max { get; private set; }

    public ReadOnlySpan<long> Bins => _bins;

    public double Mean => Count == 0 ? double.NaN : _shift + (_sum / Count);

    public double Std
    {
        get
        {
            if (Count == 0)
            {
                return double.NaN;
            }

            var mean = _sum / Count;
            return Math.Sqrt(Math.Max(0, (_sumOfSquares / Count) - (mean * mean)));
        }
    }

    public long OutOfRangeCount => _bins.Length == 0 ? 0 : _bins[0] + _bins[^1];

    /// <summary>The sampled values so far (while learning, every finite value is offered to the reservoir).</summary>
    public Span<double> Sample => _reservoir.AsSpan(0, (int)Math.Min(Count, _reservoir.Length));

    /// <summary>Starts a new window against <paramref name="reference"/> (null: sample values to learn one).</summary>
    public void Reset(FeatureReference? reference)
    {
        Reference = reference;
        Count = NanCount = MissingCount = 0;
        _sum = _sumOfSquares = 0;
        Min = double.PositiveInfinity;
        Max = double.NegativeInfinity;
        if (reference is null)
        {
            _edges = [];
            _bins = [];
            if (_reservoir.Length == 0)
            {
                _reservoir = new double[_reservoirSize];
            }

            // Shift the sums by the first value of the window (below), so the variance keeps its precision.
            _shiftSet = false;
        }
        else
        {
            _reservoir = [];
            _edges = reference.Edges;
            if (_bins.Length != _edges.Length + 1)
            {
                _bins = new long[_edges.Length + 1];
            }
            else
            {
                Array.Clear(_bins);
            }

            _shift = double.IsFinite(reference.Mean) ? reference.Mean : 0;
            _shiftSet = true;
        }
    }

    /// <summary>Adds one value; NaN and infinities are counted apart.</summary>
    public void Add(double value, Random random)
    {
        if (!double.IsFinite(value))
        {
            NanCount++;
            return;
        }

        if (!_shiftSet)
        {
            _shift = value;
            _shiftSet = true;
        }

        Count++;
        var shifted = value - _shift;
        _sum += shifted;
        _sumOfSquares += shifted * shifted;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        if (_bins.Length > 0)
        {
            _bins[FeatureReference.BinOf(_edges, value)]++;
        }
        else
        {
            // Reservoir sampling (Algorithm R): every value has the same chance to be among those kept.
            var seen = Count - 1; // values offered before this one
            if (seen < _reservoir.Length)
            {
                _reservoir[seen] = value;
            }
            else
            {
                var slot = random.NextInt64(seen + 1);
                if (slot < _reservoir.Length)
                {
                    _reservoir[slot] = value;
                }
            }
        }
    }

    public void AddNan(long count) => NanCount += count;

    public void AddMissing() => MissingCount++;
}
