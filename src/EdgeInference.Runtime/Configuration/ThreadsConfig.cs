namespace EdgeInference.Runtime.Configuration;

/// <summary>ONNX Runtime thread pools of one session; 0 lets ONNX Runtime choose.</summary>
public sealed class ThreadsConfig
{
    public int IntraOp { get; set; }

    public int InterOp { get; set; }
}
