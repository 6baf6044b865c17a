namespace EdgeInference.Optimization.Quantization;

/// <summary>The affine map of one quantized tensor (or channel): <c>real = Scale × (q − ZeroPoint)</c>.</summary>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint);
