namespace EdgeInference.Fleet.Api;

/// <summary>A health gate: a metric of the updated devices compared with a threshold (<c>error_rate&lt;=0.01</c>).</summary>
public sealed class GateSpec
{
    public string Metric { get; set; } = "";

    /// <summary><c>&lt;=</c> or <c>&gt;=</c>.</summary>
    public string Operator { get; set; } = "<=";

    public double Threshold { get; set; }
}
