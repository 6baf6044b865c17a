namespace EdgeInference.Optimization.Tflite;

/// <summary>A subgraph: its tensors, which of them are its inputs and outputs, and its operators in execution order.</summary>
public sealed record TfliteSubgraph(string Name, IReadOnlyList<TfliteTensor> Tensors, int[] Inputs, int[] Outputs, IReadOnlyList<TfliteOperator> Operators);
