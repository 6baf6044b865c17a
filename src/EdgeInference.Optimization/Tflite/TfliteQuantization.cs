namespace EdgeInference.Optimization.Tflite;

/// <summary>
/// A tensor's affine quantization: <c>real = scale × (q − zero_point)</c>, one scale and zero point per tensor, or one per
/// slice along <see cref="QuantizedDimension"/> (per-channel).
/// </summary>
public sealed record TfliteQuantization(float[] Scale, long[] ZeroPoint, int QuantizedDimension, float[] Min, float[] Max)
{
    public bool PerChannel => Scale.Length > 1;
}
