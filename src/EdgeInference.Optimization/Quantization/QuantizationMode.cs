namespace EdgeInference.Optimization.Quantization;

/// <summary>When activations are quantized.</summary>
public enum QuantizationMode
{
    /// <summary>Ranges fixed by calibration, written into the model as QuantizeLinear/DequantizeLinear pairs (QDQ).</summary>
    Static,

    /// <summary>Ranges measured on each run (DynamicQuantizeLinear); weights only are fixed. For Gemm and MatMul.</summary>
    Dynamic,
}
