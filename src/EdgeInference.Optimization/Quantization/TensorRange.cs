namespace EdgeInference.Optimization.Quantization;

/// <summary>What calibration saw of one tensor (<see cref="Min"/>, <see cref="Max"/>) and the range its method chose to quantize.</summary>
public readonly record struct TensorRange(float Min, float Max, float RangeMin, float RangeMax);
