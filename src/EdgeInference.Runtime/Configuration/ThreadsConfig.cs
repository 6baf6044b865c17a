namespace EdgeInference.Runtime.Configuration;

/// <summary>ONNX Runtime thread pools of one session; 0 lets ONNX Runtime choose.</summary>
public sealed class ThreadsConfig
{
    public int IntraOp { get; set; }

    public int InterOp { get; set; }

    /// <summary>Let idle ONNX Runtime threads spin for the next run (lower latency, busy cores). Off by default.</summary>
    public bool AllowSpinning { get; set; }
}
