namespace EdgeInference.Fleet.Api;

/// <summary>One rollout stage: a number of devices or a percentage of the targeted ones (cumulative).</summary>
public sealed class StageSpec
{
    public int? Count { get; set; }

    public double? Percent { get; set; }

    public override string ToString() => Count is { } count ? count.ToString(System.Globalization.CultureInfo.InvariantCulture) : FormattableString.Invariant($"{Percent}%");
}
