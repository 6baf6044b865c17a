using System.Globalization;

namespace EdgeInference.Fleet.Store;

/// <summary>One stage: a number of devices or a percentage of the targeted ones (cumulative).</summary>
public sealed class RolloutStage
{
    public int? Count { get; set; }

    public double? Percent { get; set; }

    /// <summary>Devices the stage covers, of <paramref name="targeted"/> (at least 1 when there are any).</summary>
    public int DevicesOf(int targeted) => targeted == 0 ? 0
        : Math.Clamp(Count ?? (int)Math.Ceiling((Percent ?? 100) * targeted / 100.0), 1, targeted);

    public override string ToString() => Count is { } count ? count.ToString(CultureInfo.InvariantCulture) : FormattableString.Invariant($"{Percent}%");
}
