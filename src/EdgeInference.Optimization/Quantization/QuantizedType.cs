namespace EdgeInference.Optimization.Quantization;

/// <summary>An 8-bit integer type a tensor is quantized to; the values are ONNX element types.</summary>
public enum QuantizedType
{
    /// <summary>uint8, 0 … 255.</summary>
    U8 = 2,

    /// <summary>int8, −128 … 127.</summary>
    S8 = 3,
}
