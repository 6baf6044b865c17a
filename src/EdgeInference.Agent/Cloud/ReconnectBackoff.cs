namespace EdgeInference.Agent.Cloud;

/// <summary>
/// Exponential backoff with full jitter (a random wait between zero and a cap that doubles per failure),
/// so a fleet that lost its broker does not come back in lockstep.
/// </summary>
public sealed class ReconnectBackoff
{
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private readonly Random _random;
    private int _failures;

    public ReconnectBackoff(TimeSpan min, TimeSpan max, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(min, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        _min = min;
        _max = max;
        _random = random ?? throw new ArgumentNullException(nameof(random));
    }

    /// <summary>The wait before the next attempt; each call counts one more failure.</summary>
    public TimeSpan Next()
    {
        var cap = Math.Min(_max.Ticks, _min.Ticks * Math.Pow(2, Math.Min(_failures, 30)));
        _failures++;
        return TimeSpan.FromTicks(Math.Max(_min.Ticks / 2, (long)(cap * _random.NextDouble())));
    }

    public void Reset() => _failures = 0;
}
