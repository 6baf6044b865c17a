namespace EdgeInference.Optimization.Quantization;

/// <summary>A quantized model's bytes and the report of how it was made.</summary>
public sealed record QuantizedModel(byte[] Bytes, QuantizationReport Report);
