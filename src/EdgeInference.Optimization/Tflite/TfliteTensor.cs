namespace EdgeInference.Optimization.Tflite;

/// <summary>
/// A tensor of a subgraph: its shape (with <see cref="ShapeSignature"/> marking dynamic dimensions as -1), element type,
/// quantization, and the buffer holding its constant data (0: none).
/// </summary>
public sealed record TfliteTensor(string Name, TfliteTensorType Type, int[] Shape, int[]? ShapeSignature, uint Buffer, TfliteQuantization? Quantization, bool IsVariable);
