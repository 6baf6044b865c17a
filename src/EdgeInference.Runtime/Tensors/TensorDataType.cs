namespace EdgeInference.Runtime.Tensors;

/// <summary>The element types of the Open Inference Protocol, each one ONNX Runtime accepts.</summary>
public enum TensorDataType
{
    Bool,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Bf16,
    Fp32,
    Fp64,

    /// <summary>
    /// Variable-length byte strings (ONNX string tensors). In a buffer each element is a 4-byte
    /// little-endian length followed by that many bytes, the layout of the protocol's binary extension.
    /// </summary>
    Bytes,
}
