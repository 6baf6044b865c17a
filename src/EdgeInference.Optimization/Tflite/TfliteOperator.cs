namespace EdgeInference.Optimization.Tflite;

/// <summary>
/// One operator of a subgraph: what it is (<see cref="Name"/>, from its builtin code, or the custom code), its input and
/// output tensors (-1 for an omitted optional input), and where its options table is in the file (-1: none).
/// </summary>
public sealed record TfliteOperator(int BuiltinCode, string? CustomCode, int Version, int[] Inputs, int[] Outputs, byte OptionsType, int OptionsTable)
{
    /// <summary><c>CONV_2D</c>, or <c>CUSTOM:name</c> for a custom operator.</summary>
    public string Name => BuiltinCode == TfliteOperators.Custom ? $"CUSTOM:{CustomCode}" : TfliteOperators.NameOf(BuiltinCode);
}
