using System.Globalization;

namespace EdgeInference.Fleet.Store;

/// <summary>A health gate: a metric of the updated devices, compared with a threshold (<c>error_rate&lt;=0.01</c>).</summary>
public sealed class RolloutGate
{
    /// <summary>See <see cref="GateMetrics"/>.</summary>
    public string Metric { get; set; } = "";

    /// <summary><c>&lt;=</c> or <c>&gt;=</c>.</summary>
    public string Operator { get; set; } = "<=";

    public double Threshold { get; set; }

    public bool Passes(double value) => Operator == ">=" ? value >= Threshold : value <= Threshold;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Metric}{Operator}{Threshold}");
}
