using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Models;

/// <summary>A model input or output as ONNX declares it; -1 marks a dynamic dimension.</summary>
public sealed class TensorSpec
{
    public TensorSpec(int index, string name, TensorDataType dataType, long[] shape)
    {
        Index = index;
        Name = name;
        NameUtf8 = System.Text.Encoding.UTF8.GetBytes(name);
        DataType = dataType;
        Shape = shape;
    }

    /// <summary>Position among the model's inputs or outputs.</summary>
    public int Index { get; }

    public string Name { get; }

    /// <summary>The name as UTF-8, for parsers that match names without allocating.</summary>
    public byte[] NameUtf8 { get; }

    public TensorDataType DataType { get; }

    public long[] Shape { get; }

    /// <summary>Whether the first dimension is dynamic, which micro-batching needs.</summary>
    public bool HasDynamicBatchDimension => Shape.Length > 0 && Shape[0] < 0;
}
